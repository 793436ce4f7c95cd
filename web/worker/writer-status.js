// The writer's part of db.status (storage, persistence, relay sync, quota), kept by the
// engine's tab and announced to every tab; each tab's client adds its own part (writer,
// tab, unsaved, writerStalled: engine-client.js).
//
//   const status = new WriterStatus((s) => announce(s));
//   status.set({ storage: "opfs", persisted: false });   // announces the whole status
//   void status.refreshEstimate();                        // usage and quota, at most every 5 s

export class WriterStatus {
  /** @param {(status: Record<string, any>) => void} announce  called with a copy at each change */
  constructor(announce) {
    this.announce = announce;
    /** @type {Record<string, any>} */
    this.value = { storage: "starting", persisted: false, error: null };
    this.relayHoldsAll = false;
    this.estimatedAt = 0;
  }

  /** @param {Record<string, any>} changes */
  set(changes) {
    const status = this.value;
    Object.assign(status, changes);
    // Where copies of the data live: a relay holds everything once it acknowledged the
    // whole outbox; until then (or with no relay) unpersisted storage is the only copy.
    const relay = status.relay; // the relay session's SyncStatus (yloft.sync.session)
    if (relay?.state === "online" && relay.outbox === 0) this.relayHoldsAll = true;
    else if (!relay || relay.outbox > 0) this.relayHoldsAll = false;
    status.onlyHere = status.storage !== "memory" && !status.persisted && !this.relayHoldsAll;
    this.announce({ ...status });
  }

  /** Storage usage and quota (navigator.storage.estimate), at most every 5 s. */
  async refreshEstimate() {
    const now = Date.now();
    if (now - this.estimatedAt < 5000 || !navigator.storage?.estimate) return;
    this.estimatedAt = now;
    try {
      const { usage, quota } = await navigator.storage.estimate();
      if (usage !== this.value.usage || quota !== this.value.quota) this.set({ usage, quota });
    } catch {
      // an estimate is informative only
    }
  }
}
