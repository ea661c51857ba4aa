// Installs spec-freeze.ts's Object.freeze. worker.ts imports this module ahead of "ses": ES
// modules evaluate in import order, and SES keeps the `freeze` it finds when it loads
// (ses/src/commons.js), so lockdown() and harden() use this one. Nothing else imports it.

import { makeFreeze } from "./spec-freeze.ts";

Object.freeze = makeFreeze(Object.freeze);
