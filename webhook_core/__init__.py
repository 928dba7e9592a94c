"""webhook_core: the "Send via webhook" action of a chatbot, exact to every rule.

Templating (B), dotted-key nesting and PHP encoding (C), sending and saving the
answer (D), the retry schedule (E) and a minimal bot-flow runtime (F). See
``docs/semantics.md`` for each rule and the decision taken.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .action import RESERVED_VARIABLES, Method, WebhookAction, check_variable_name
    from .encoding import encode_query, php_urlencode
    from .errors import ConfigurationError, LimitExceeded, PathNotFound, WebhookError
    from .flow import (
        MAX_FLOW_BYTES,
        MAX_FLOW_ENTRIES,
        Attempt,
        Block,
        Flow,
        FlowRun,
        FlowRuntime,
        FlowState,
        Message,
        SentMessage,
        SetVariable,
        Subscriber,
        Webhook,
        check_timezone,
        reserved_variables,
    )
    from .nesting import flatten, nest
    from .paths import MISSING, lookup
    from .request import (
        MAX_REQUEST_BYTES,
        USER_AGENT,
        PreparedRequest,
        build_request,
        prepare_request,
    )
    from .response import DEFAULT_MAX_BODY, parse_body
    from .retry import MAX_ATTEMPTS, RETRY_SCHEDULE, Dispatcher, attempt_offsets, retry_delay
    from .sender import DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, HttpxSender, Outcome, Sender
    from .template import (
        MAX_RENDERED_BYTES,
        Reference,
        Rendering,
        parse_template,
        render,
        render_report,
    )

# Names load on first use, so that importing one module (``webhook_core.template``,
# as the mock server does) does not load the HTTP client and the runtime.
_LAZY: dict[str, str] = {
    "Attempt": "flow",
    "Block": "flow",
    "ConfigurationError": "errors",
    "DEFAULT_MAX_BODY": "response",
    "DEFAULT_MAX_REDIRECTS": "sender",
    "DEFAULT_TIMEOUT": "sender",
    "Dispatcher": "retry",
    "Flow": "flow",
    "FlowRun": "flow",
    "FlowRuntime": "flow",
    "FlowState": "flow",
    "HttpxSender": "sender",
    "LimitExceeded": "errors",
    "MAX_FLOW_BYTES": "flow",
    "MAX_FLOW_ENTRIES": "flow",
    "MAX_RENDERED_BYTES": "template",
    "MAX_REQUEST_BYTES": "request",
    "MAX_ATTEMPTS": "retry",
    "MISSING": "paths",
    "Message": "flow",
    "Method": "action",
    "Outcome": "sender",
    "PathNotFound": "errors",
    "PreparedRequest": "request",
    "RESERVED_VARIABLES": "action",
    "RETRY_SCHEDULE": "retry",
    "Reference": "template",
    "Rendering": "template",
    "Sender": "sender",
    "SentMessage": "flow",
    "SetVariable": "flow",
    "Subscriber": "flow",
    "USER_AGENT": "request",
    "Webhook": "flow",
    "WebhookAction": "action",
    "WebhookError": "errors",
    "attempt_offsets": "retry",
    "build_request": "request",
    "check_timezone": "flow",
    "check_variable_name": "action",
    "encode_query": "encoding",
    "flatten": "nesting",
    "lookup": "paths",
    "nest": "nesting",
    "parse_body": "response",
    "parse_template": "template",
    "php_urlencode": "encoding",
    "prepare_request": "request",
    "render": "template",
    "render_report": "template",
    "reserved_variables": "flow",
    "retry_delay": "retry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'webhook_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT",
    "MAX_ATTEMPTS",
    "MAX_FLOW_BYTES",
    "MAX_FLOW_ENTRIES",
    "MAX_RENDERED_BYTES",
    "MAX_REQUEST_BYTES",
    "MISSING",
    "RESERVED_VARIABLES",
    "RETRY_SCHEDULE",
    "USER_AGENT",
    "Attempt",
    "Block",
    "ConfigurationError",
    "Dispatcher",
    "Flow",
    "FlowRun",
    "FlowRuntime",
    "FlowState",
    "HttpxSender",
    "LimitExceeded",
    "Message",
    "Method",
    "Outcome",
    "PathNotFound",
    "PreparedRequest",
    "Reference",
    "Rendering",
    "Sender",
    "SentMessage",
    "SetVariable",
    "Subscriber",
    "Webhook",
    "WebhookAction",
    "WebhookError",
    "__version__",
    "attempt_offsets",
    "build_request",
    "check_timezone",
    "check_variable_name",
    "encode_query",
    "flatten",
    "lookup",
    "nest",
    "parse_body",
    "parse_template",
    "php_urlencode",
    "prepare_request",
    "render",
    "render_report",
    "reserved_variables",
    "retry_delay",
]
