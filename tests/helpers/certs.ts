import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A key pair on disk and in memory; `notAfter` in Unix seconds. */
export interface TestCert {
  keyPath: string;
  certPath: string;
  key: string;
  cert: string;
  notAfter: number;
}

/** Certificates for TLS tests: a CA, a leaf for 127.0.0.1/localhost signed by it, a self-signed and an expired leaf. */
export interface TestCerts {
  dir: string;
  ca: { certPath: string; cert: string };
  /** Signed by `ca`, valid for 30 days from now. */
  leaf: TestCert;
  /** Self-signed, otherwise valid. */
  selfSigned: TestCert;
  /** Signed by `ca`, valid only in January 2020. */
  expired: TestCert;
  /** Signed by `ca` for TLS client authentication (extendedKeyUsage clientAuth), CN `suiteprobe client`. */
  client: TestCert;
  /** Self-signed RSA 2048 (an Entra app certificate: client assertions are signed with RSA). */
  rsa: TestCert;
}

let cached: Promise<TestCerts> | undefined;

/** Generates the test certificates once per process with the openssl CLI (OpenSSL 3.0 compatible). */
export function testCerts(): Promise<TestCerts> {
  cached ??= generate();
  return cached;
}

const SAN = "subjectAltName=IP:127.0.0.1,DNS:localhost";
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

// `openssl x509 -not_before/-not_after` only exist from 3.4 on; `openssl ca -startdate/-enddate` works on 3.0.
const CA_CONFIG = `[ ca ]
default_ca = test
[ test ]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = any
unique_subject = no
x509_extensions = leaf
[ any ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
${SAN}
[ client ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
`;

async function generate(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), "suiteprobe-certs-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const openssl = (...args: string[]) => run("openssl", args, { cwd: dir });
  writeFileSync(join(dir, "ca.cnf"), CA_CONFIG);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");

  await openssl(
    ...["req", "-x509", ...EC_KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650"],
    ...["-subj", "/CN=suiteprobe test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  await openssl("req", "-new", ...EC_KEY, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost");
  const sign = (out: string, ...validity: string[]) =>
    openssl(
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca.key",
      "-notext",
      ...validity,
      ...["-in", "leaf.csr", "-out", out],
    );
  await sign("leaf.pem", "-days", "30");
  await openssl(
    "req",
    "-new",
    ...EC_KEY,
    "-keyout",
    "client.key",
    "-out",
    "client.csr",
    "-subj",
    "/CN=suiteprobe client",
  );
  await openssl(
    ...["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-notext", "-days", "30"],
    ...["-extensions", "client", "-in", "client.csr", "-out", "client.pem"],
  );
  await openssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.pem", "-days", "30"],
    ...["-subj", "/CN=suiteprobe entra app"],
  );
  await sign("expired.pem", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z");
  await openssl(
    ...["req", "-x509", ...EC_KEY, "-keyout", "self.key", "-out", "self.pem", "-days", "30"],
    ...["-subj", "/CN=localhost", "-addext", SAN],
  );

  const load = (keyFile: string, certFile: string): TestCert => {
    const cert = readFileSync(join(dir, certFile), "utf8");
    return {
      keyPath: join(dir, keyFile),
      certPath: join(dir, certFile),
      key: readFileSync(join(dir, keyFile), "utf8"),
      cert,
      notAfter: new X509Certificate(cert).validToDate.getTime() / 1000,
    };
  };
  return {
    dir,
    ca: { certPath: join(dir, "ca.pem"), cert: readFileSync(join(dir, "ca.pem"), "utf8") },
    leaf: load("leaf.key", "leaf.pem"),
    selfSigned: load("self.key", "self.pem"),
    expired: load("leaf.key", "expired.pem"),
    client: load("client.key", "client.pem"),
    rsa: load("rsa.key", "rsa.pem"),
  };
}
