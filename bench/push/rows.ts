/** Row i of the seed's user-features group, as the push benchmark sends it. */
export const row = (i: number) => ({
  user_id: i,
  age: i % 100,
  tenure: i / 7,
  activity_score: (i % 1000) / 1000,
  event_time: new Date(Date.now() - 60_000).toISOString(),
});
