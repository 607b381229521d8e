// Twilio Verify v2 through Twilio's own Node SDK, pointed at the local server as the
// README's Node example does: the SDK checks the account SID's form before any request,
// so this is also the proof that the SIDs the demo prints are Twilio's; with the auth
// token, then with an API key (SK...) as production code authenticates. Reads the local
// server's URL and the demo's credentials from the environment (scripts/twilio-sdk.sh
// sets them) and each code from the dev inbox; prints one line per flow, exits non-zero
// when any fails.
"use strict";

const assert = require("node:assert/strict");
const twilio = require("twilio");

const API = process.env.OTP_LOCAL_URL;
const ACCOUNT_SID = process.env.TWILIO_ACCOUNT_SID;
const AUTH_TOKEN = process.env.TWILIO_AUTH_TOKEN;
const API_KEY = process.env.TWILIO_API_KEY;
const API_SECRET = process.env.TWILIO_API_SECRET;
const SERVICE_SID = process.env.VERIFY_SERVICE_SID;

function client(accountSid = ACCOUNT_SID, authToken = AUTH_TOKEN) {
  const sdk = twilio(accountSid, authToken);
  sdk.verify.baseUrl = API; // the one change a migrating team makes
  return sdk;
}

// As production code authenticates: an API key and its secret, the account SID beside.
function keyClient(secret = API_SECRET) {
  const sdk = twilio(API_KEY, secret, { accountSid: ACCOUNT_SID });
  sdk.verify.baseUrl = API;
  return sdk;
}

async function createWrongAndRightCheck(sdk, to) {
  const service = sdk.verify.v2.services(SERVICE_SID);
  const verification = await service.verifications.create({ to, channel: "sms" });
  assert.equal(verification.status, "pending");
  assert.match(verification.sid, /^VE[0-9a-f]{32}$/);
  assert.deepEqual([verification.accountSid, verification.serviceSid], [ACCOUNT_SID, SERVICE_SID]);
  const code = await codeFor(to);
  const wrong = code === "000000" ? "111111" : "000000";
  const pending = await service.verificationChecks.create({ to, code: wrong });
  assert.deepEqual([pending.status, pending.valid], ["pending", false]);
  const approved = await service.verificationChecks.create({ to, code });
  assert.deepEqual([approved.status, approved.valid, approved.sid], ["approved", true, verification.sid]);
}

async function codeFor(to) {
  const inbox = await (await fetch(`${API}/_dev/inbox.json`)).json();
  const message = inbox.messages.find((m) => m.to === to); // newest first
  assert.ok(message, `nothing delivered to ${to}`);
  return message.text.match(/\d{6}/)[0];
}

async function refused(call, code, status) {
  try {
    await call();
  } catch (error) {
    assert.deepEqual([error.code, error.status], [code, status], error.message);
    return;
  }
  assert.fail(`expected Twilio error ${code}, got a success`);
}

const flows = {
  async createWrongAndRightCheck() {
    await createWrongAndRightCheck(client(), "+919876543231");
  },

  async badCredentials() {
    const service = client(ACCOUNT_SID, "not-the-token").verify.v2.services(SERVICE_SID);
    await refused(() => service.verifications.create({ to: "+919876543232", channel: "sms" }), 20003, 401);
  },

  async createWrongAndRightCheckWithApiKey() {
    await createWrongAndRightCheck(keyClient(), "+919876543233");
  },

  // Services as applications manage them at start-up, with an API key: create, fetch,
  // list every page, update, delete.
  async servicesWithApiKey() {
    const services = keyClient().verify.v2.services;
    const created = await services.create({ friendlyName: "Node Shop", codeLength: 7 });
    assert.match(created.sid, /^VA[0-9a-f]{32}$/);
    assert.deepEqual([created.friendlyName, created.codeLength], ["Node Shop", 7]);
    const fetched = await services(created.sid).fetch();
    assert.equal(fetched.sid, created.sid);
    const listed = (await services.list({ pageSize: 1 })).map((service) => service.sid);
    assert.ok(listed.includes(created.sid) && listed.includes(SERVICE_SID), listed.join(","));
    const updated = await services(created.sid).update({ friendlyName: "Node Shop 2" });
    assert.equal(updated.friendlyName, "Node Shop 2");
    assert.equal(await services(created.sid).remove(), true);
    await refused(() => services(created.sid).fetch(), 20404, 404);
  },

  async apiKeyWithAWrongSecret() {
    const service = keyClient("not-the-secret").verify.v2.services(SERVICE_SID);
    await refused(() => service.verifications.create({ to: "+919876543234", channel: "sms" }), 20003, 401);
  },
};

(async () => {
  let failed = 0;
  for (const [name, flow] of Object.entries(flows)) {
    try {
      await flow();
      console.log(`ok    ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL  ${name}: ${error.message}`);
    }
  }
  const total = Object.keys(flows).length;
  console.log(`twilio Node SDK flows: ${total - failed} of ${total} passed`);
  process.exit(failed ? 1 : 0);
})();
