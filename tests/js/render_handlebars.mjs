// Renders template/data cases with the reference Handlebars.js, as tests/test_templates.py's
// oracle: reads [{"template", "data"}] as JSON on stdin, prints one {"strict", "loose"} per
// case, each {"ok": text} or {"error": message}. `strict` because SES fails a render whose
// output expression is not present in the data (Handlebars.js would print ""); `loose` is
// plain Handlebars.js.
//
// SES does not HTML-escape. Handlebars.js' `noEscape: true` has a JavaScript artifact: adjacent
// outputs are joined with `+`, so `{{a}}{{b}}` with false and 1 renders "1" (false + 1), not
// "false1". We get unescaped output without it: escapeExpression (which turns every value into
// its string first) is replaced by the same conversion without the escaping, and triple-stash
// `{{{x}}}` (which skips escapeExpression) is rendered as `{{x}}`, the same thing once nothing
// is escaped.
import Handlebars from "handlebars";

Handlebars.Utils.escapeExpression = (value) => {
  if (typeof value === "string") return value;
  if (value == null) return "";
  return String(value);
};

const unescapedTriples = (template) =>
  template.replace(/\{\{(~?)\{([^}]*)\}(~?)\}\}/g, "{{$1$2$3}}");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const run = (template, data, strict) => {
    try {
      return { ok: Handlebars.compile(unescapedTriples(template), { strict })(data) };
    } catch (e) {
      return { error: String(e.message) };
    }
  };
  const out = cases.map(({ template, data }) => ({
    strict: run(template, data, true),
    loose: run(template, data, false),
  }));
  process.stdout.write(JSON.stringify(out));
});
