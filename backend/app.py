"""create_app(): every plugin, router, middleware and the database lifespan, wired in one place."""

from __future__ import annotations

import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from litestar import Litestar, Request, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusController

from backend.apidocs import LocalSwaggerPlugin
from backend.core.access import provide_clinician, provide_me, provide_system
from backend.core.auth import AuthFailureLimiter, RequirePrincipal, TokenVerifier, WriteStep
from backend.core.change_signals import SIGNALS
from backend.core.contract import serve_contract_document
from backend.core.errors import EXCEPTION_HANDLERS
from backend.core.idempotency import IdempotencyMiddleware
from backend.core.identity import configure_sealer, load_patient_secret, sealer
from backend.core.inputs import input_limits_middleware, screen_request
from backend.core.logs import configure_logging
from backend.core.middleware import edge_middleware, metrics_client_allowed
from backend.core.ratelimit import RateLimit, limit_writes
from backend.db.embedded import EmbeddedPostgres
from backend.db.engine import DB
from backend.health import HealthController
from backend.settings import Settings, load_settings

if TYPE_CHECKING:
    from backend.dev.tokens import DevSigningKey

log = logging.getLogger("helsekort.app")


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    guards = [metrics_client_allowed]


def _lifespan(settings: Settings) -> Any:
    @contextlib.asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        embedded: EmbeddedPostgres | None = None
        dsn = settings.database_url
        if dsn is None:
            embedded = EmbeddedPostgres(settings.data_dir)
            dsn = embedded.uri
        DB.configure(dsn)
        await DB.open_pool(
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            acquire_timeout=settings.db_acquire_timeout,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            connect_timeout=settings.db_connect_timeout,
            command_timeout=settings.db_command_timeout,
            generic_plans=True,
        )
        try:
            yield
        finally:
            await app.state.token_verifier.close()
            await SIGNALS.close()
            await DB.close_pool()
            if embedded is not None:
                embedded.stop()

    return database


def citizen_router(settings: Settings) -> Router:
    """/citizen/v1: ID-porten tokens; each domain adds its citizen controllers here."""
    from backend.documents.routes import CitizenDocumentController
    from backend.fhir.routes import CitizenExportController
    from backend.labs.routes import CitizenLabResultController
    from backend.measurements.routes import CitizenMeasurementCodesController, CitizenMeasurementsController
    from backend.medications.prescription_routes import CitizenPrescriptionController
    from backend.medications.routes import CitizenMedicationController
    from backend.municipal.routes import CitizenMunicipalServicesController
    from backend.notifications.routes import (
        CitizenDevicesController,
        CitizenNotificationPreferencesController,
        CitizenNotificationsController,
        CitizenSubscriptionsController,
    )
    from backend.patients.routes import CitizenMeController, CitizenRepresentationController
    from backend.pregnancy.routes import CitizenPregnancyController

    return Router(
        path="/citizen/v1",
        route_handlers=[
            CitizenMeController,
            CitizenRepresentationController,
            CitizenDevicesController,
            CitizenSubscriptionsController,
            CitizenNotificationsController,
            CitizenNotificationPreferencesController,
            CitizenMeasurementsController,
            CitizenMeasurementCodesController,
            CitizenLabResultController,
            CitizenMedicationController,
            CitizenPrescriptionController,
            CitizenPregnancyController,
            CitizenMunicipalServicesController,
            CitizenExportController,
            CitizenDocumentController,
        ],
        middleware=[
            RequirePrincipal("citizen", writes=[citizen_write_limit(settings), IdempotencyMiddleware().handle])
        ],
        dependencies={"me": Provide(provide_me)},
    )


def overview_sections() -> tuple[ModuleType, ...]:
    """The domains whose sections the legevakt overview shows: importing each one's module registers its reader
    with core (core/overview.py); a domain left out here is simply absent from the overview."""
    import backend.documents.overview
    import backend.labs.overview
    import backend.measurements.overview
    import backend.medications.overview
    import backend.pregnancy.overview

    return (
        backend.medications.overview,
        backend.measurements.overview,
        backend.pregnancy.overview,
        backend.labs.overview,
        backend.documents.overview,
    )


def clinician_router(settings: Settings) -> Router:
    """/clinician/v1: HelseID tokens; each domain adds its clinician controllers here."""
    overview_sections()
    from backend.documents.routes import ClinicianDocumentController
    from backend.labs.routes import ClinicianLabReportController
    from backend.measurements.routes import ClinicianMeasurementsController, ClinicianNews2Controller
    from backend.medications.prescription_routes import ClinicianPrescriptionController, ClinicianRenewalController
    from backend.medications.routes import ClinicianMedicationController
    from backend.municipal.routes import ClinicianMunicipalServicesController, ClinicianOverviewController
    from backend.patients.routes import ClinicianAlertsController, ClinicianPatientController
    from backend.pregnancy.routes import ClinicianPregnancyController

    return Router(
        path="/clinician/v1",
        route_handlers=[
            ClinicianPatientController,
            ClinicianAlertsController,
            ClinicianMeasurementsController,
            ClinicianNews2Controller,
            ClinicianLabReportController,
            ClinicianMedicationController,
            ClinicianPrescriptionController,
            ClinicianRenewalController,
            ClinicianPregnancyController,
            ClinicianMunicipalServicesController,
            ClinicianOverviewController,
            ClinicianDocumentController,
        ],
        middleware=[RequirePrincipal("clinician", writes=[IdempotencyMiddleware().handle])],
        dependencies={"clinician": Provide(provide_clinician, sync_to_thread=False)},
    )


def system_router() -> Router:
    """/system/v1: machine clients (the population-register feed), each route naming the scope it needs."""
    from backend.patients.routes import SystemGuardianshipController

    return Router(
        path="/system/v1",
        route_handlers=[SystemGuardianshipController],
        middleware=[RequirePrincipal("system", writes=[IdempotencyMiddleware().handle])],
        dependencies={"system": Provide(provide_system, sync_to_thread=False)},
    )


def citizen_write_limit(settings: Settings) -> WriteStep:
    """Citizen writes per caller per minute, counted in PostgreSQL for every API process (core/ratelimit.py);
    run only for writes, after authentication. Without the database the write is refused with 503."""
    return limit_writes(RateLimit("citizen-writes", settings.rate_limit_writes_per_minute), detail="too many writes")


def fhir_handlers() -> list[Any]:
    """/fhir/R4 and its searches: importing a domain's FHIR module registers its searches (core/fhir.py)."""
    # The domains whose records FHIR reads serve (the CapabilityStatement lists exactly these).
    import backend.documents.fhir
    import backend.labs.fhir_search
    import backend.measurements.fhir
    import backend.medications.fhir
    import backend.municipal.fhir
    import backend.patients.fhir
    import backend.pregnancy.fhir  # noqa: F401
    from backend.fhir.routes import fhir_router

    return fhir_router()


def route_handlers(settings: Settings) -> list[Any]:
    """Every router of the service."""
    handlers: list[Any] = [
        HealthController,
        MetricsController,
        citizen_router(settings),
        clinician_router(settings),
        system_router(),
    ]
    handlers += fhir_handlers()
    from backend.cms.admin import admin_mount
    from backend.cms.routes import content_router

    handlers += [content_router(), admin_mount(settings)]
    if settings.dev_issuers_enabled:
        handlers.append(dev_jwks)
    return handlers


@get("/.well-known/jwks.json", operation_id="devJwks", summary="Dev issuers' public keys (dev mode only)",
     tags=["service"], security=[{}], opt={"database": False})  # fmt: skip
async def dev_jwks(request: Request[Any, Any, Any]) -> dict[str, Any]:
    jwks: dict[str, Any] = request.app.state.dev_signing_key.jwks
    return jwks


def _token_verifier(settings: Settings) -> tuple[TokenVerifier, DevSigningKey | None]:
    issuers = list(settings.issuers)
    static: dict[str, dict[str, Any]] = {}
    dev_key: DevSigningKey | None = None
    if settings.dev_issuers_enabled:
        # Imported here, never at module level: production (no dev issuers) loads nothing of backend.dev.
        from backend.dev.tokens import dev_issuers, load_dev_signing_key

        dev_key = load_dev_signing_key(settings)
        for issuer in dev_issuers():
            issuers.append(issuer)
            static[issuer.issuer] = dev_key.jwks
    verifier = TokenVerifier(
        issuers,
        sealer=sealer(),
        allow_synthetic_numbers=not settings.is_production,
        static_jwks=static,
    )
    return verifier, dev_key


def create_app(settings: Settings | None = None, *, extra_route_handlers: Sequence[Any] = ()) -> Litestar:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    configure_sealer(load_patient_secret(settings.patient_key, settings.dev_keys_dir))
    verifier, dev_key = _token_verifier(settings)
    openapi = OpenAPIConfig(
        title="Helsekort API",
        version="1.0.0",
        description=(
            "Headless CMS for information about the national e-health services, and the backend of the "
            "citizens' app and the clinician API (pregnancy card, lab results, medication list, measurements)."
        ),
        path="/schema",
        render_plugins=[LocalSwaggerPlugin(path="/")],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="ID-porten (citizens), HelseID (clinicians), editor or machine-client (system) access token",
                )
            }
        ),
        security=[{"BearerToken": []}],
        use_handler_docstrings=False,
    )
    app = Litestar(
        route_handlers=[*route_handlers(settings), *extra_route_handlers],
        openapi_config=openapi,
        exception_handlers=EXCEPTION_HANDLERS,
        # Outermost inside Litestar: NUL in path/query refused and body bytes counted before any middleware
        # (authentication, idempotency) can store or buffer them. Request id, headers and the access log wrap
        # the whole app (edge_middleware below), so these refusals get them too.
        middleware=[input_limits_middleware(settings.body_limit, {"document": settings.document_body_limit})],
        before_request=screen_request,
        # No Litestar logging config: it would replace the JSON, scrubbed logging set up above.
        logging_config=None,
        # Document content is not compressed: it streams with its Content-Length, and byte ranges are of the file.
        # Brotli quality 3 with a 256 KiB window: on a 35 kB JSON answer 99 µs and 5,982 bytes, against Litestar's
        # default (quality 5, 4 MiB window) 330 µs and 6,286 bytes, and far less memory touched per response.
        compression_config=CompressionConfig(
            backend="brotli",
            brotli_quality=3,
            brotli_lgwin=18,
            brotli_gzip_fallback=True,
            minimum_size=1024,
            exclude_opt_key="skip_compression",
        ),
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_origins),
            # Browser clients read these to send If-Match, honour Retry-After and follow a created resource.
            expose_headers=["ETag", "Retry-After", "Location", "X-Request-ID"],
        )
        if settings.cors_origins
        else None,
        request_max_body_size=settings.body_limit,
        lifespan=[_lifespan(settings)],
        state=None,
        debug=False,
    )
    # Outside Litestar's exception handling, so error answers and unmatched routes get the same treatment.
    app.asgi_handler = edge_middleware(app.asgi_handler, schema_asset_origins=_asset_origins(openapi))
    app.state.settings = settings
    app.state.token_verifier = verifier
    app.state.dev_signing_key = dev_key
    app.state.auth_failure_limiter = AuthFailureLimiter(settings.rate_limit_auth_failures_per_minute)
    serve_contract_document(app)
    return app


def _asset_origins(openapi: OpenAPIConfig) -> list[str]:
    """Origins the API page's renderer loads its script, styles and icon from (none once they are served locally)."""
    urls: list[str] = []
    for plugin in openapi.render_plugins:
        urls += [str(getattr(plugin, name, "") or "") for name in ("js_url", "css_url")]
        urls += re.findall(r"href=['\"]([^'\"]+)", str(getattr(plugin, "favicon", "") or ""))
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.netloc:
            origins.append(f"https://{parts.netloc}")
    return origins


# The collector's thresholds for a serving process: a young collection every 20,000 net allocations (700 by
# default), an old one every 20 of those. Measured with `python -m bench --only clinician-read-audited --only
# pregnancy-card --only medications-read` (2 rounds): with the defaults and nothing frozen, p99 was 107-122 ms at
# 32 connections, full collections walking Litestar's, msgspec's and asyncpg's start-up objects; frozen and with
# these thresholds 20-32 ms, at the same or better req/s.
GC_THRESHOLDS = (20_000, 20, 20)


def settle_heap() -> None:
    """Leave what start-up built out of every later collection (gc.freeze), and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_factory() -> Litestar:
    """Entry point for the ASGI servers (`granian --factory` / `uvicorn --factory`): the app, its heap settled."""
    app = create_app()
    settle_heap()
    return app


__all__ = ["Router", "create_app"]
