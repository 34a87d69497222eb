"""The API resolver every handler uses: validation on, problems for every error, body limit."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from prakerja.errors import DomainError
from prakerja.http.problems import from_domain_error, from_validation_errors, problem
from prakerja.observability import logger

MAX_BODY_BYTES = 64 * 1024


def _limit_body_size(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[str]:
    body = app.current_event.body or ""
    size = len(body.encode()) if not app.current_event.is_base64_encoded else len(body) * 3 // 4
    if size > MAX_BODY_BYTES:
        return problem(
            413, "PAYLOAD_TOO_LARGE", "Payload too large", f"The body may be at most {MAX_BODY_BYTES} bytes."
        )
    return next_middleware(app)


def create_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    app.use(middlewares=[_limit_body_size])

    @app.exception_handler(DomainError)
    def _domain_error(error: DomainError) -> Response[str]:
        logger.info("request refused", extra={"code": error.code, "status": error.status})
        return from_domain_error(error)

    @app.exception_handler(RequestValidationError)
    def _validation_error(error: RequestValidationError) -> Response[str]:
        response = from_validation_errors(error.errors())
        logger.info("request not valid", extra={"status": response.status_code})
        return response

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        # Only the type: messages of internal errors may quote personal data.
        logger.error("unexpected error", extra={"error_type": type(error).__name__})
        return problem(500, "INTERNAL_ERROR", "Internal error", "Something went wrong on our side; try again.")

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return problem(404, "NOT_FOUND", "Not found", "No such resource.")

    return app
