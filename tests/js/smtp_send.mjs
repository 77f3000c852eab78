// nodemailer against mailtally's SMTP interface (tests/test_smtp.py). Reads a JSON job from
// argv[2]: {host, port, secure, user, pass, from, to, headers, subject, text, pool, count} and
// prints one JSON line: {"ok": [{messageId, response, accepted, rejected}...]} or
// {"error": {code, responseCode, response, message}}.
import nodemailer from "nodemailer";

const job = JSON.parse(process.argv[2]);
const transport = nodemailer.createTransport({
  host: job.host,
  port: job.port,
  secure: Boolean(job.secure),   // true: implicit TLS; false: STARTTLS (required below)
  requireTLS: !job.secure,
  auth: { user: job.user, pass: job.pass },
  tls: { rejectUnauthorized: false },  // the server's self-signed certificate
  pool: Boolean(job.pool),
  maxConnections: job.pool ? 2 : undefined,
});

try {
  const results = await Promise.all(
    Array.from({ length: job.count || 1 }, (_, i) =>
      transport.sendMail({
        from: job.from,
        to: job.to,
        subject: `${job.subject || "nodemailer"} ${i}`,
        text: job.text || "Sent by nodemailer.\n.leading dot line\n",
        headers: job.headers || {},
      })
    )
  );
  console.log(JSON.stringify({
    ok: results.map((r) => ({ messageId: r.messageId, response: r.response,
                              accepted: r.accepted, rejected: r.rejected })),
  }));
} catch (e) {
  console.log(JSON.stringify({
    error: { code: e.code, responseCode: e.responseCode, response: e.response,
             message: e.message },
  }));
} finally {
  transport.close();
}
