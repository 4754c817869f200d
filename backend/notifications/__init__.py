"""Push notifications to the citizens' app: devices, CMS topics, the inbox, preferences, and the APNs/FCM outbox worker.

Routes (`/citizen/v1/me`, see routes.py):
- `PUT /devices/{deviceToken}` `{platform: "ios"|"android", environment, bundleId, locale: nb|nn|en|se}` → 204.
  An iOS token is 64 hex characters, stored in lower case; an Android (FCM) token is 20-512 URL-safe
  characters, kept as given (else 400 naming `deviceToken`). One token
  belongs to one citizen: registering a token another citizen holds moves it (whoever holds the phone
  gets its pushes). Registering again refreshes `registered_at` and reactivates a disabled token.
- `DELETE /devices/{deviceToken}` → 204; a token that is not mine → 404. `GET /devices` lists mine.
- `PUT` / `DELETE /subscriptions/{topic}` → 204 (idempotent); a topic outside core/topics.TOPICS → 400
  naming `topic` and listing the known ones. `GET /subscriptions` lists mine with titles.
- `GET /notifications?locale=` `{items: [{id, kind, text, at, read, resourceType, resourceId}], next, unread}`
  newest first (the kind's text in nb|nn|en|se); `POST /notifications/{id}/read` → 204 (not mine: 404);
  `POST /notifications/read-all` → `{marked, unread}`. Every notifying event lands here once, pushed or not;
  kept 12 months (the worker's `notification-inbox-purge`).
- `GET` / `PUT /notification-preferences` `{kinds: {labResults, medications, prescriptions, pregnancy,
  documents, content}: bool, quietHours: "HH:MM-HH:MM"|null}`: a kind turned off pushes to no phone (the
  inbox keeps it); her quiet hours replace HELSEKORT_QUIET_HOURS; bad input → 400 naming the field.

Worker (worker.py, registered in backend/jobs.py as `push-notifications`): what notifies, with which
content-free text, kind, preference switch, priority, lifetime and quiet-hours rule is the table in rules.py.
iOS devices are sent to through APNs (apns.py), Android devices through FCM HTTP v1 (fcm.py: the service
account's OAuth2 token, cached and fetched again once on 401; HTTP/2; collapse key, priority, TTL). Every
send is a row in `push_attempt` (event, device, outcome, status and reason, apns-id or FCM message id,
worker, time); an outcome other than `retry` is final for that (event, device), so a retried event is not
resent to devices that already got it. A dead token (APNs 410/BadDeviceToken, FCM 404 UNREGISTERED or a
400 naming `message.token`) is disabled unless registered again since; 429/5xx are retried with back-off,
at least FCM's Retry-After. Without any transport configured the job logs one error and claims nothing;
a platform without its transport is skipped (logged once).

Operators: Prometheus series per transport (`transport="apns"|"fcm"`): `helsekort_push_sent_total`,
`helsekort_push_failed_total{reason}`, `helsekort_push_retried_total`, `helsekort_push_tokens_disabled_total`,
`helsekort_push_muted_total` (kind turned off), `helsekort_push_send_age_seconds` (age of the oldest event
in the last batch sent); and `helsekort_push_deferred_quiet_hours_total`, `helsekort_push_expired_total`,
`helsekort_push_inbox_stored_total` and the gauge `helsekort_push_queue_age_seconds`. They live in the worker
process and are served on `HELSEKORT_WORKER_METRICS_PORT` (unset: not served). The API process counts
registrations per transport (`helsekort_push_registrations_total{transport}`) on its /metrics. The same
facts are in `push_attempt`, e.g.
`SELECT outcome, status, reason, count(*) FROM push_attempt WHERE at > now() - interval '1 hour' GROUP BY 1, 2, 3`.

Benchmarks: `python -m bench.push_load` (one worker draining 100,000 events to the mock APNs) and
`python -m bench.push_mixed_load` (100,000 events, half to Android through the mock FCM).
"""
