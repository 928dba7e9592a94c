"""webhook_core: the "Send via webhook" action of a chatbot, exact to every rule.

Templating (B), dotted-key nesting and PHP encoding (C), sending and saving the
answer (D), the retry schedule (E) and a minimal bot-flow runtime (F). See
``docs/semantics.md`` for each rule and the decision taken.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .action import RESERVED_VARIABLES, Method, WebhookAction, check_variable_name
from .encoding import encode_query, php_urlencode
from .errors import ConfigurationError, PathNotFound, WebhookError
from .flow import (
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
    reserved_variables,
)
from .nesting import flatten, nest
from .paths import MISSING, lookup
from .request import USER_AGENT, PreparedRequest, build_request, prepare_request
from .response import DEFAULT_MAX_BODY, parse_body
from .retry import MAX_ATTEMPTS, RETRY_SCHEDULE, Dispatcher, attempt_offsets, retry_delay
from .sender import DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT, HttpxSender, Outcome, Sender
from .template import Reference, Rendering, parse_template, render, render_report

__all__ = [
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT",
    "MAX_ATTEMPTS",
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
