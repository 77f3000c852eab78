// Runs a few calls with the AWS SDK for JavaScript v3 and prints one JSON object with the
// results (or error codes), for tests/test_js_sdk.py. Endpoint and keys come from the
// environment: MAILTALLY_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
import { SESClient, ListConfigurationSetsCommand as V1List } from "@aws-sdk/client-ses";
import {
  SESv2Client,
  ListConfigurationSetsCommand,
  ListEmailIdentitiesCommand,
  CreateConfigurationSetCommand,
  GetConfigurationSetCommand,
} from "@aws-sdk/client-sesv2";
import { CloudWatchClient, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";

const config = {
  endpoint: process.env.MAILTALLY_ENDPOINT,
  region: "us-east-1",
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
};

async function attempt(fn) {
  try {
    const out = await fn();
    delete out.$metadata;
    return { ok: out };
  } catch (e) {
    return { error: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

const v1 = new SESClient(config);
const v2 = new SESv2Client(config);
const cw = new CloudWatchClient(config);
const name = process.argv[2] || "js-sdk-set";
const results = {
  create: await attempt(() => v2.send(new CreateConfigurationSetCommand({ ConfigurationSetName: name }))),
  get: await attempt(() => v2.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }))),
  v2List: await attempt(() => v2.send(new ListConfigurationSetsCommand({}))),
  v2ListPaged: await attempt(() => v2.send(new ListConfigurationSetsCommand({ PageSize: 1 }))),
  v2Identities: await attempt(() => v2.send(new ListEmailIdentitiesCommand({}))),
  v1List: await attempt(() => v1.send(new V1List({}))),
  cloudwatchListMetrics: await attempt(() => cw.send(new ListMetricsCommand({}))),
};
console.log(JSON.stringify(results));
