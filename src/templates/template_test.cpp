#include "templates/template.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace mailtally::templates {
namespace {

std::string render(std::string_view tpl, std::string_view data = "{}") {
  auto t = Template::parse(tpl);
  if (!t) return "PARSE: " + t.error().message;
  auto out = t->render(boost::json::parse(data));
  if (!out) return "RENDER: " + out.error().message();
  return *out;
}

TEST(Template, VariablesAndDottedPathsAreNotEscaped) {
  EXPECT_EQ(render("Hi {{name}}!", R"({"name":"<b>Ann & Bo</b>"})"), "Hi <b>Ann & Bo</b>!");
  EXPECT_EQ(render("{{a.b.c}} {{{a.b.c}}} {{& a.b.c}}", R"({"a":{"b":{"c":"x"}}})"), "x x x");
  EXPECT_EQ(render("{{a/b}} {{this.a.b}} {{./a.b}}", R"({"a":{"b":1}})"), "1 1 1");
  EXPECT_EQ(render("{{[with space]}}", R"({"with space":"ok"})"), "ok");
}

TEST(Template, ScalarsPrintAsHandlebarsJsDoes) {
  EXPECT_EQ(render("{{a}}|{{b}}|{{c}}|{{d}}|{{e}}|{{f}}|{{g}}",
                   R"({"a":1,"b":1.5,"c":true,"d":null,"e":[1,[2,3],null],"f":{},"g":1e21})"),
            "1|1.5|true||1,2,3,|[object Object]|1e+21");
  EXPECT_EQ(render("{{a}} {{b}} {{c}} {{d}}", R"({"a":0.1,"b":1e-7,"c":-0.0,"d":123456789.25})"),
            "0.1 1e-7 0 123456789.25");
  EXPECT_EQ(render("{{a}}", R"({"a":false})"), "false");
}

TEST(Template, MissingOutputAttributeIsAnSesError) {
  EXPECT_EQ(render("Hi {{name}}"),
            "RENDER: Attribute 'name' is not present in the rendering data.");
  EXPECT_EQ(render("{{a.b}}", R"({"a":{}})"),
            "RENDER: Attribute 'a.b' is not present in the rendering data.");
  // Only evaluated expressions count; block parameters may be missing.
  EXPECT_EQ(render("{{#if x}}{{y}}{{/if}}{{#each z}}{{q}}{{/each}}{{#with w}}{{v}}{{/with}}"), "");
  // Extra data is fine; null is present.
  EXPECT_EQ(render("[{{a}}]", R"({"a":null,"b":2})"), "[]");
}

TEST(Template, IfUnlessElseAndChains) {
  const char* t = "{{#if a}}A{{else if b}}B{{else}}C{{/if}}";
  EXPECT_EQ(render(t, R"({"a":1})"), "A");
  EXPECT_EQ(render(t, R"({"a":0,"b":"x"})"), "B");
  EXPECT_EQ(render(t, R"({"a":[],"b":""})"), "C");
  EXPECT_EQ(render("{{#unless a}}no{{else}}yes{{/unless}}", R"({"a":{}})"), "yes");
  EXPECT_EQ(render("{{#if a}}y{{^}}n{{/if}}", R"({"a":null})"), "n");
}

TEST(Template, EachOverArraysAndObjects) {
  EXPECT_EQ(render("{{#each xs}}{{@index}}:{{this}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}} "
                   "{{/each}}",
                   R"({"xs":["a","b","c"]})"),
            "0:aF 1:b 2:cL ");
  EXPECT_EQ(render("{{#each o}}{{@key}}={{this}};{{/each}}", R"({"o":{"k":1,"j":2}})"), "k=1;j=2;");
  EXPECT_EQ(render("{{#each xs}}{{name}}/{{../title}} {{/each}}",
                   R"({"title":"T","xs":[{"name":"n1"},{"name":"n2"}]})"),
            "n1/T n2/T ");
  EXPECT_EQ(render("{{#each xs}}x{{else}}empty{{/each}}", R"({"xs":[]})"), "empty");
  EXPECT_EQ(render("{{#each s}}x{{else}}not a list{{/each}}", R"({"s":"str"})"), "not a list");
  EXPECT_EQ(render("{{#each xs}}{{@root.t}}{{/each}}", R"({"t":"r","xs":[1,2]})"), "rr");
  EXPECT_EQ(render("{{xs.length}} {{xs.[1]}}", R"({"xs":[4,5]})"), "2 5");
}

TEST(Template, WithAndSections) {
  EXPECT_EQ(render("{{#with c}}{{first}} {{../x}}{{/with}}", R"({"c":{"first":"F"},"x":1})"),
            "F 1");
  EXPECT_EQ(render("{{#with c}}y{{else}}n{{/with}}", R"({"c":0})"), "y");  // 0 is not empty
  EXPECT_EQ(render("{{#with c}}y{{else}}n{{/with}}", R"({"c":""})"), "n");
  EXPECT_EQ(render("{{#p}}[{{this}}]{{/p}}", R"({"p":[1,2]})"), "[1][2]");
  EXPECT_EQ(render("{{#p}}{{n}}{{/p}}", R"({"p":{"n":"N"}})"), "N");
  EXPECT_EQ(render("{{#p}}y{{else}}n{{/p}}", R"({"p":false})"), "n");
}

TEST(Template, WhitespaceControlAndStandaloneLines) {
  EXPECT_EQ(render("a\n  {{#if x}}\nb\n  {{else}}\nc\n{{/if}}\nd", R"({"x":1})"), "a\nb\nd");
  EXPECT_EQ(render("{{#each xs}}\n  - {{this}}\n{{/each}}\n", R"({"xs":[1,2]})"), "  - 1\n  - 2\n");
  EXPECT_EQ(render("a   {{~x~}}   b", R"({"x":"X"})"), "aXb");
  EXPECT_EQ(render("x\n{{! a comment }}\ny\n{{!-- a }} comment --}}z"), "x\ny\nz");
}

TEST(Template, EscapedMustache) {
  EXPECT_EQ(render("\\{{name}} {{x}}", R"({"x":1})"), "{{name}} 1");
}

TEST(Template, SyntaxErrors) {
  EXPECT_EQ(render("{{#if a}}x").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{#if a}}x{{/each}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{a").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{/if}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{else}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{#if}}x{{/if}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{> partial}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{helper arg}}").substr(0, 6), "PARSE:");
  EXPECT_EQ(render("{{#if a}}{{else}}{{else}}{{/if}}").substr(0, 6), "PARSE:");
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "{{#if a}}";
  EXPECT_EQ(render(deep).substr(0, 6), "PARSE:");
}

TEST(Template, RenderLimits) {
  // 30^6 iterations with no output exceed the step budget instead of running for minutes.
  std::string arr = "[";
  for (int i = 0; i < 30; ++i) arr += (i ? ",1" : "1");
  arr += "]";
  std::string t;
  for (int i = 0; i < 6; ++i) t += "{{#each @root.a}}";
  for (int i = 0; i < 6; ++i) t += "{{/each}}";
  EXPECT_EQ(render(t, "{\"a\":" + arr + "}"),
            "RENDER: The rendered template exceeds the size limit.");
}

}  // namespace
}  // namespace mailtally::templates
