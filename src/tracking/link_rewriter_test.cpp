#include "tracking/link_rewriter.hpp"

#include <gtest/gtest.h>

namespace mailtally::tracking {
namespace {

RewriteOptions clicks() {
  RewriteOptions o;
  o.click = true;
  o.click_url = [](const TrackedLink& l) {
    return "https://t.test/c/" + std::to_string(l.url.size());
  };
  return o;
}

TEST(LinkRewriter, RewritesOnlyTheHrefAndKeepsEverythingElse) {
  std::string html = "<p class=x>Hi <a  class=\"btn\" href='http://example.com/x'>go</a> !</p>";
  auto r = rewrite_html(html, clicks());
  EXPECT_EQ(r.html, "<p class=x>Hi <a  class=\"btn\" href=\"https://t.test/c/20\">go</a> !</p>");
  ASSERT_EQ(r.tracked.size(), 1u);
  EXPECT_EQ(r.tracked[0].url, "http://example.com/x");
  EXPECT_TRUE(r.changed);
}

TEST(LinkRewriter, NoTrackIsHonouredAndRemoved) {
  auto r = rewrite_html(
      "<a ses:no-track href=\"https://a.test/\">a</a><A HREF=https://b.test/ "
      "SES:NO-TRACK>b</A>",
      clicks());
  EXPECT_EQ(r.html, "<a href=\"https://a.test/\">a</a><A HREF=https://b.test/>b</A>");
  EXPECT_TRUE(r.tracked.empty());
}

TEST(LinkRewriter, LinkTagsAreReadValidatedAndRemoved) {
  auto r = rewrite_html(
      "<a ses:tags=\"product:book; genre : fiction;bad tag:x;type:new*;;novalue;\" "
      "href=\"http://www.amazon.com/\">x</a>",
      clicks());
  EXPECT_EQ(r.html, "<a href=\"https://t.test/c/22\">x</a>");
  ASSERT_EQ(r.tracked.size(), 1u);
  LinkTags want{{"product", "book"}, {"genre", "fiction"}};
  EXPECT_EQ(r.tracked[0].tags, want);
}

TEST(LinkRewriter, UppercaseTagsAndAttributesAreAnchors) {
  auto r = rewrite_html("<A HREF=\"HTTPS://EXAMPLE.COM/Path\" SES:TAGS=\"k:v\">x</A>", clicks());
  EXPECT_EQ(r.html, "<A HREF=\"https://t.test/c/24\">x</A>");
  ASSERT_EQ(r.tracked.size(), 1u);
  EXPECT_EQ(r.tracked[0].tags, (LinkTags{{"k", "v"}}));
}

TEST(LinkRewriter, InvalidAndNonHttpUrlsAreLeftAlone) {
  std::string html =
      "<a href=\"http://example.com/a b\">space</a><a href=\"mailto:x@y.test\">m</a>"
      "<a href=\"/relative\">r</a><a href=\"javascript:alert(1)\">j</a><a href=\"http://\">e</a>"
      "<a href=\"ftp://example.com/\">f</a><a>none</a><a href=\"http://exa mple.com/\">h</a>";
  auto r = rewrite_html(html, clicks());
  EXPECT_EQ(r.html, html);
  EXPECT_FALSE(r.changed);
}

TEST(LinkRewriter, EntitiesInHrefAreDecodedForTheOriginalLink) {
  auto r = rewrite_html("<a href=\"https://e.test/?a=1&amp;b=2\">x</a>", clicks());
  ASSERT_EQ(r.tracked.size(), 1u);
  EXPECT_EQ(r.tracked[0].url, "https://e.test/?a=1&b=2");
  EXPECT_EQ(r.html, "<a href=\"https://t.test/c/23\">x</a>");
}

TEST(LinkRewriter, AtMost250LinksAreTracked) {
  std::string html;
  for (int i = 0; i < 260; ++i)
    html += "<a href=\"https://e.test/" + std::to_string(i) + "\">l</a>";
  auto r = rewrite_html(html, clicks());
  ASSERT_EQ(r.tracked.size(), 250u);
  EXPECT_EQ(r.tracked.back().url, "https://e.test/249");
  EXPECT_NE(r.html.find("<a href=\"https://e.test/250\">"), std::string::npos);
  EXPECT_EQ(r.html.find("<a href=\"https://e.test/249\">"), std::string::npos);
}

TEST(LinkRewriter, PixelGoesBeforeBodyEndOrAtTheEnd) {
  RewriteOptions o;
  o.open = true;
  o.open_url = "https://t.test/o/T";
  auto r = rewrite_html("<html><body><p>x</p></body></html>", o);
  EXPECT_EQ(r.html, "<html><body><p>x</p>" + pixel_html("https://t.test/o/T") + "</body></html>");
  EXPECT_TRUE(r.pixel);
  auto frag = rewrite_html("<p>x</p>", o);
  EXPECT_EQ(frag.html, "<p>x</p>" + pixel_html("https://t.test/o/T"));
  // A </body> in a comment is not the body's end.
  auto c = rewrite_html("<body><!-- </body> --><p>y</p></BODY>", o);
  EXPECT_EQ(c.html,
            "<body><!-- </body> --><p>y</p>" + pixel_html("https://t.test/o/T") + "</BODY>");
}

TEST(LinkRewriter, PlaceholderTakesThePixelOnce) {
  RewriteOptions o;
  o.open = true;
  o.open_url = "u";
  auto r = rewrite_html("<p>{{ses:openTracker}}a{{ses:openTracker}}</p></body>", o);
  EXPECT_EQ(r.html, "<p>" + pixel_html("u") + "a</p></body>");
  o.open = false;
  o.click = true;
  auto none = rewrite_html("<p>{{ses:openTracker}}</p>", o);
  EXPECT_EQ(none.html, "<p></p>");
  EXPECT_FALSE(none.pixel);
}

TEST(LinkRewriter, ClickOffLeavesLinksButRemovesSesAttributes) {
  RewriteOptions o;
  o.open = true;
  o.open_url = "u";
  auto r = rewrite_html("<a ses:tags=\"a:b\" href=\"https://e.test/\">x</a>", o);
  EXPECT_EQ(r.html, "<a href=\"https://e.test/\">x</a>" + pixel_html("u"));
  EXPECT_TRUE(r.tracked.empty());
}

TEST(LinkRewriter, MisnestedAnchorsAreEditedOnce) {
  // The parser clones the <a> when </a> is misnested; its source is still edited once.
  auto r = rewrite_html("<a href=\"https://e.test/\"><p>x</a>y</p>", clicks());
  EXPECT_EQ(r.html, "<a href=\"https://t.test/c/15\"><p>x</a>y</p>");
  EXPECT_EQ(r.tracked.size(), 1u);
}

TEST(LinkRewriter, UrlCheck) {
  EXPECT_TRUE(is_trackable_url("http://example.com"));
  EXPECT_TRUE(is_trackable_url("https://example.com/a/b?c=d&e=%20#frag"));
  EXPECT_FALSE(is_trackable_url("https://example.com/a b"));
  EXPECT_FALSE(is_trackable_url("https://example.com/\xc3\xa9"));
  EXPECT_FALSE(is_trackable_url("http:/x"));
  EXPECT_FALSE(is_trackable_url(std::string("https://e.test/") + std::string(kMaxLinkBytes, 'a')));
}

}  // namespace
}  // namespace mailtally::tracking
