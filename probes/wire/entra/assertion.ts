import {
  constants,
  createHash,
  createPrivateKey,
  randomUUID,
  sign,
  X509Certificate,
  type KeyObject,
} from "node:crypto";

/** How long a client assertion is valid: short, it is used once within seconds. */
const ASSERTION_LIFETIME_SECONDS = 300;

/** An app certificate and its RSA private key, loaded and checked against each other. */
export interface AppCertificate {
  /** base64url SHA-256 of the DER certificate (the `x5t#S256` header). */
  thumbprintS256: string;
  key: KeyObject;
  /** `notAfter` of the certificate, Unix seconds. */
  notAfter: number;
}

/** Loads a PEM certificate and its key (from `keyPem`, or the same PEM bundle); throws a plain Error saying what is wrong. */
export function loadAppCertificate(certPem: string, keyPem: string): AppCertificate {
  const cert = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(`private key is ${key.asymmetricKeyType ?? "unknown"}; Entra client assertions need an RSA key`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error("private key does not belong to the certificate");
  return {
    thumbprintS256: createHash("sha256").update(cert.raw).digest("base64url"),
    key,
    notAfter: Math.floor(cert.validToDate.getTime() / 1000),
  };
}

/**
 * A client assertion JWT as the Microsoft identity platform documents it ("certificate credentials"): header
 * `alg: PS256`, `typ: JWT`, `x5t#S256`; claims aud = token URL, iss = sub = client id, fresh jti, nbf = iat = now,
 * exp = now + 5 min; signed with RSA-PSS / SHA-256, salt length 32.
 */
export function clientAssertion(cert: AppCertificate, clientId: string, audience: string, nowMs: number): string {
  const now = Math.floor(nowMs / 1000);
  const header = { alg: "PS256", typ: "JWT", "x5t#S256": cert.thumbprintS256 };
  const claims = {
    aud: audience,
    iss: clientId,
    sub: clientId,
    jti: randomUUID(),
    nbf: now,
    iat: now,
    exp: now + ASSERTION_LIFETIME_SECONDS,
  };
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = sign("sha256", Buffer.from(input), {
    key: cert.key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: 32,
  });
  return `${input}.${signature.toString("base64url")}`;
}
