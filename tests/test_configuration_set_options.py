"""SES v1 configuration-set option operations and their v2 view of the same state."""
import pytest
from botocore.exceptions import ClientError

from helpers import unique


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_v1_tracking_options_lifecycle(ses, sesv2):
    name = unique("trk")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    with pytest.raises(ClientError) as e:
        ses.update_configuration_set_tracking_options(
            ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "t.example.com"})
    assert code_of(e) == "TrackingOptionsDoesNotExistException"

    ses.create_configuration_set_tracking_options(
        ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "t.example.com"})
    with pytest.raises(ClientError) as e:
        ses.create_configuration_set_tracking_options(
            ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "u.example.com"})
    assert code_of(e) == "TrackingOptionsAlreadyExistsException"

    out = ses.describe_configuration_set(ConfigurationSetName=name,
                                         ConfigurationSetAttributeNames=["trackingOptions"])
    assert out["TrackingOptions"] == {"CustomRedirectDomain": "t.example.com"}
    assert sesv2.get_configuration_set(ConfigurationSetName=name)["TrackingOptions"] == {
        "CustomRedirectDomain": "t.example.com"}

    ses.update_configuration_set_tracking_options(
        ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "v.example.com"})
    assert sesv2.get_configuration_set(
        ConfigurationSetName=name)["TrackingOptions"]["CustomRedirectDomain"] == "v.example.com"

    with pytest.raises(ClientError) as e:
        ses.update_configuration_set_tracking_options(
            ConfigurationSetName=name, TrackingOptions={"CustomRedirectDomain": "not a domain"})
    assert code_of(e) == "InvalidTrackingOptions"

    ses.delete_configuration_set_tracking_options(ConfigurationSetName=name)
    assert "TrackingOptions" not in sesv2.get_configuration_set(ConfigurationSetName=name)
    with pytest.raises(ClientError) as e:
        ses.delete_configuration_set_tracking_options(ConfigurationSetName=name)
    assert code_of(e) == "TrackingOptionsDoesNotExistException"


def test_v1_delivery_reputation_and_sending_flags(ses, sesv2):
    name = unique("opt")
    ses.create_configuration_set(ConfigurationSet={"Name": name})
    ses.put_configuration_set_delivery_options(ConfigurationSetName=name,
                                               DeliveryOptions={"TlsPolicy": "Require"})
    ses.update_configuration_set_reputation_metrics_enabled(ConfigurationSetName=name,
                                                            Enabled=True)
    ses.update_configuration_set_sending_enabled(ConfigurationSetName=name, Enabled=False)
    out = ses.describe_configuration_set(
        ConfigurationSetName=name,
        ConfigurationSetAttributeNames=["deliveryOptions", "reputationOptions"])
    assert out["DeliveryOptions"] == {"TlsPolicy": "Require"}
    assert out["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert out["ReputationOptions"]["SendingEnabled"] is False
    v2 = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert v2["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    assert v2["SendingOptions"] == {"SendingEnabled": False}


def test_v1_option_operations_on_unknown_set(ses):
    with pytest.raises(ClientError) as e:
        ses.update_configuration_set_sending_enabled(ConfigurationSetName=unique("nope"),
                                                     Enabled=True)
    assert code_of(e) == "ConfigurationSetDoesNotExist"


def test_v2_put_options(sesv2):
    name = unique("put")
    sesv2.create_configuration_set(ConfigurationSetName=name)
    sesv2.put_configuration_set_tracking_options(ConfigurationSetName=name,
                                                 CustomRedirectDomain="c.example.com")
    sesv2.put_configuration_set_suppression_options(ConfigurationSetName=name,
                                                    SuppressedReasons=["BOUNCE"])
    sesv2.put_configuration_set_sending_options(ConfigurationSetName=name, SendingEnabled=False)
    out = sesv2.get_configuration_set(ConfigurationSetName=name)
    assert out["TrackingOptions"] == {"CustomRedirectDomain": "c.example.com"}
    assert out["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE"]}
    assert out["SendingOptions"] == {"SendingEnabled": False}
    with pytest.raises(ClientError) as e:
        sesv2.put_configuration_set_tracking_options(ConfigurationSetName=unique("nope"),
                                                     CustomRedirectDomain="c.example.com")
    assert code_of(e) == "NotFoundException"
