"""Push notifications to the citizens' app: device registration, CMS topics, and the APNs outbox worker.

Routes (`/citizen/v1/me`, see routes.py):
- `PUT /devices/{deviceToken}` `{platform: "ios", environment, bundleId, locale: nb|nn|en}` → 204. The
  token is 64 hex characters (else 400 naming `deviceToken`) and is stored in lower case. One token
  belongs to one citizen: registering a token another citizen holds moves it (whoever holds the phone
  gets its pushes). Registering again refreshes `registered_at` and reactivates a disabled token.
- `DELETE /devices/{deviceToken}` → 204; a token that is not mine → 404. `GET /devices` lists mine.
- `PUT` / `DELETE /subscriptions/{topic}` → 204 (idempotent); a topic outside core/topics.TOPICS → 400
  naming `topic` and listing the known ones. `GET /subscriptions` lists mine with titles.

Worker (worker.py, registered in backend/jobs.py as `push-notifications`): what notifies, with which
content-free text, priority, lifetime and quiet-hours rule is the table in rules.py. Every send is a
row in `push_attempt` (event, device, outcome, APNs status and reason, apns-id, worker, time); an
outcome other than `retry` is final for that (event, device), so a retried event is not resent to
devices that already got it. Without APNs credentials the job logs one error and claims nothing.

Operators: Prometheus counters `helsekort_push_sent_total`, `helsekort_push_failed_total{reason}`,
`helsekort_push_retried_total`, `helsekort_push_tokens_disabled_total`,
`helsekort_push_deferred_quiet_hours_total`, `helsekort_push_expired_total` and the gauge
`helsekort_push_queue_age_seconds` live in the worker process and are served on
`HELSEKORT_WORKER_METRICS_PORT` (unset: not served); the same facts are in `push_attempt`, e.g.
`SELECT outcome, status, reason, count(*) FROM push_attempt WHERE at > now() - interval '1 hour' GROUP BY 1, 2, 3`.

Benchmark: `python -m bench.push_load` (one worker draining 100,000 events to the mock APNs).
"""
