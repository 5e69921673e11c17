// Shared set-up for the JavaScript SDK tests: the endpoint from CPL_ENDPOINT, the default key, and
// an assertion on the error the SDK parsed from the answer.
import assert from "node:assert/strict";

export const endpoint = process.env.CPL_ENDPOINT;
if (!endpoint) throw new Error("CPL_ENDPOINT is not set (e.g. http://127.0.0.1:4566)");

export const ACCOUNT = "000000000000";
export const REGION = "us-east-1";

/** Client options as an infrastructure tool passes them: an endpoint override, static keys, and
 * no retries so that a wrong answer fails at once. */
export function config(credentials = { accessKeyId: "test", secretAccessKey: "test" }) {
  return { endpoint, region: REGION, maxAttempts: 1, credentials };
}

/** Awaits promise, which must reject with the SDK error named name (the class the SDK chose from
 * the answer), the HTTP status, and, when given, the message (a string or a RegExp). Returns the
 * error. */
export async function rejectsWith(promise, name, status, message) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${name}, but the call succeeded`);
  assert.equal(err.name, name, `${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, `${err.name}: ${err.message}`);
  if (typeof message === "string") assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return err;
}

/** Returns a skip message when the server answers that service is not emulated (a build without
 * it), false when it serves it. Any other failure of probe is the test's business, not a skip. */
export async function skipUnlessServed(service, probe) {
  try {
    await probe();
  } catch (e) {
    if (/not emulated/.test(e.message ?? "")) return `${service} is not emulated by this build: ${e.message}`;
  }
  return false;
}
