// Reads `npm audit --json` output on stdin; exits 0 (no high/critical finding, or the audit endpoint did not
// answer), 1 (high or critical findings) or 2 (a problem of the project itself, e.g. no lockfile).
let text = "";
for await (const chunk of process.stdin) text += chunk;
let report;
try {
  report = JSON.parse(text);
} catch {
  console.log("npm audit: no JSON answer (audit endpoint unreachable?); skipped");
  process.exit(0);
}
const counts = report?.metadata?.vulnerabilities;
if (counts !== undefined) {
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  const names = Object.entries(report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === "high" || v.severity === "critical")
    .map(([name, v]) => `${name} (${v.severity})`);
  if (serious > 0) {
    console.log(`npm audit: ${serious} high/critical finding(s) in production dependencies: ${names.join(", ")}`);
    process.exit(1);
  }
  console.log(`npm audit: no high or critical findings (${counts.total ?? 0} in total, all below high)`);
  process.exit(0);
}
const code = report?.error?.code;
if (code === "ENOLOCK" || code === "EJSONPARSE") {
  console.log(`npm audit: ${code}: the project itself cannot be audited`);
  process.exit(2);
}
const why = report?.statusCode ?? code ?? report?.message ?? "no report";
console.log(`npm audit: the audit endpoint did not answer (${why}); skipped, not failed`);
process.exit(0);
