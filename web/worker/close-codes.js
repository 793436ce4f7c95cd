// Generated from yloft.sync.closecodes by `python -m yloft.sync.closecodes`: do not
// edit; tests/unit/test_closecodes.py fails when this file and the enum differ.

/** Websocket close codes of the relay and its clients (yloft.sync.closecodes). */
export const CloseCode = Object.freeze({
  NORMAL_CLOSURE: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS_RCVD: 1005,
  ABNORMAL_CLOSURE: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  CLIENT_DROPPED: 4000,
  TOKEN_EXPIRED: 4401,
});
