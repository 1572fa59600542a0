// Time is injected so that tests can pin it. Microseconds are what the seed API exposes as
// `send_time`; the store makes them strictly increasing per conversation on top of this clock.
export interface Clock {
  nowMs(): number;
  nowUs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  nowUs: () => Math.floor((performance.timeOrigin + performance.now()) * 1000),
};
