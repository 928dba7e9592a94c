"""The ``mock:`` part of a scenario file: the fake CRMs to mount (Bitrix24, amoCRM)
with their accounts, events, webhooks and faults, and the stubs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from mockserver import Stub
from mockserver.crm.amocrm.webhooks import MAX_DESTINATION, MAX_HOOKS
from mockserver.crm.base import MAX_FAULTS
from mockserver.crm.bitrix24.events import MAX_BINDINGS, MAX_HANDLER
from mockserver.models import (
    CRM_SUBDOMAIN,
    CRM_SUBDOMAIN_TEXT,
    CRM_URL_WORD,
    CRM_URL_WORD_TEXT,
    CrmFaultSpec,
    Flag,
    WholeNumber,
)
from mockserver.written import (
    crm_fault_texts,
    stub_texts,
)

from .durations import format_duration
from .fields import (
    Duration,
    Model,
    Text,
)

__all__ = [
    "AmoCRMSpec",
    "AmoCRMWebhookEvent",
    "AmoCRMWebhookSpec",
    "Bitrix24EventSpec",
    "Bitrix24Spec",
    "CrmSpec",
    "Lifetime",
    "MockSpec",
]


class Bitrix24EventSpec(Model):
    """An outbound event the portal sends to a path of the scenario's mock server, as
    ``event.bind`` would register it; ``expect`` checks what arrived there."""

    event: Literal[
        "ONCRMLEADADD",
        "ONCRMLEADUPDATE",
        "ONCRMLEADDELETE",
        "ONCRMCONTACTADD",
        "ONCRMCONTACTUPDATE",
        "ONCRMCONTACTDELETE",
        "ONCRMDEALADD",
        "ONCRMDEALUPDATE",
        "ONCRMDEALDELETE",
        "ONCRMCOMPANYADD",
        "ONCRMCOMPANYUPDATE",
        "ONCRMCOMPANYDELETE",
    ]
    # The server's address goes before it, and the portal takes 2048 characters in all.
    handler: str = Field(
        pattern=r"^/",
        max_length=MAX_HANDLER - 64,
        description="a path on the scenario's mock server",
    )


class Bitrix24Spec(Model):
    """A fake Bitrix24 portal on the far side; ``{mock.bitrix24}`` is its webhook URL."""

    user_id: Text = Field(default="1", json_schema_extra={"pattern": CRM_URL_WORD.pattern})
    secret: Text = Field(
        default="scenario-secret", json_schema_extra={"pattern": CRM_URL_WORD.pattern}
    )
    plan: Literal["standard", "enterprise", "unlimited"] = "standard"
    # As many as the fake holds: past them mounting failed at run time, a traceback.
    faults: list[CrmFaultSpec] = Field(default_factory=list, max_length=MAX_FAULTS)
    events: list[Bitrix24EventSpec] = Field(default_factory=list, max_length=MAX_BINDINGS)

    @field_validator("events")
    @classmethod
    def _bound_once(cls, value: list[Bitrix24EventSpec]) -> list[Bitrix24EventSpec]:
        seen: set[tuple[str, str]] = set()
        for index, binding in enumerate(value):
            pair = (binding.event, binding.handler)
            if pair in seen:
                raise ValueError(
                    f"events[{index}]: {binding.event} → {binding.handler} is bound above "
                    "already (the portal refuses a second binding: 'Handler already binded')"
                )
            seen.add(pair)
        return value

    @field_validator("faults", mode="before")
    @classmethod
    def _fault_texts(cls, value: Any) -> Any:
        return [crm_fault_texts(item) for item in value] if isinstance(value, list) else value

    @field_validator("user_id", "secret")
    @classmethod
    def _in_the_url(cls, value: str) -> str:
        if not CRM_URL_WORD.fullmatch(value):
            raise ValueError(f"{CRM_URL_WORD_TEXT}; got {value!r}")
        return value


#: What an amoCRM webhook can subscribe to (``mockserver.crm.amocrm.webhooks.EVENTS``).
AmoCRMWebhookEvent = Literal[
    "add_lead",
    "update_lead",
    "delete_lead",
    "restore_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "add_contact",
    "update_contact",
    "delete_contact",
    "restore_contact",
    "responsible_contact",
    "note_contact",
    "add_company",
    "update_company",
    "delete_company",
    "restore_company",
    "responsible_company",
    "note_company",
]


class AmoCRMWebhookSpec(Model):
    """A webhook of the account (as ``POST /api/v4/webhooks`` makes one) that sends to a path
    of the scenario's mock server, form-encoded (``leads[add][0][id]``); ``expect.requests``
    checks what arrived there."""

    destination: str = Field(
        pattern=r"^/[^\s\u0000-\u001f]*$",
        max_length=MAX_DESTINATION - 64,  # after the server's address; amoCRM takes 2048
        description="a path on the scenario's mock server (no spaces or control characters)",
    )
    settings: Annotated[list[AmoCRMWebhookEvent], Field(min_length=1)]
    sort: WholeNumber = Field(default=1, ge=-(2**31), le=2**31 - 1)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(f"a lifetime longer than 0s; got {format_duration(value)}")
    return value


Lifetime = Annotated[Duration, AfterValidator(_positive)]


class AmoCRMSpec(Model):
    """A fake amoCRM account: ``{mock.amocrm}`` is its API base, ``{mock.amocrm_token}`` a
    long-lived token; ``{mock.amocrm_oauth}`` its token endpoint, with
    ``{mock.amocrm_client_id}``, ``{mock.amocrm_client_secret}``,
    ``{mock.amocrm_redirect_uri}`` and ``{mock.amocrm_code}`` (an authorization code).
    Tokens expire on the scenario's clock."""

    subdomain: Text = Field(default="example", json_schema_extra={"pattern": CRM_SUBDOMAIN.pattern})
    duplicate_control: Flag = True
    faults: list[CrmFaultSpec] = Field(default_factory=list, max_length=MAX_FAULTS)
    webhooks: list[AmoCRMWebhookSpec] = Field(default_factory=list, max_length=MAX_HOOKS)
    token_lifetime: Lifetime = Field(
        default=timedelta(days=5 * 365),
        description="how long {mock.amocrm_token} is valid (amoCRM allows 1 day to 5 years; "
        "shorter here, so that a retry schedule can outlive it)",
    )
    access_lifetime: Lifetime = Field(
        default=timedelta(days=1),
        description="how long an access token from {mock.amocrm_oauth} lives (expires_in)",
    )

    @field_validator("faults", mode="before")
    @classmethod
    def _fault_texts(cls, value: Any) -> Any:
        return [crm_fault_texts(item) for item in value] if isinstance(value, list) else value

    @field_validator("webhooks")
    @classmethod
    def _one_per_destination(cls, value: list[AmoCRMWebhookSpec]) -> list[AmoCRMWebhookSpec]:
        seen: set[str] = set()
        for index, hook in enumerate(value):
            if hook.destination in seen:
                raise ValueError(
                    f"webhooks[{index}]: {hook.destination} has a webhook above already "
                    "(amoCRM keeps one per destination: this one would replace it); put "
                    "all its settings in one"
                )
            seen.add(hook.destination)
        return value

    @field_validator("subdomain")
    @classmethod
    def _host_label(cls, value: str) -> str:
        if not CRM_SUBDOMAIN.fullmatch(value):
            raise ValueError(f"{CRM_SUBDOMAIN_TEXT}; got {value!r}")
        return value


class CrmSpec(Model):
    bitrix24: Bitrix24Spec | None = None
    amocrm: AmoCRMSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_null(cls, data: Any) -> Any:
        # `bitrix24:` with nothing after it mounted no portal at all, silently.
        if isinstance(data, dict):
            for name in ("bitrix24", "amocrm"):
                if name in data and data[name] is None:
                    raise ValueError(
                        f"{name}: a mapping of its settings, {{}} for the defaults; got null, "
                        f"which would mount no fake {name}"
                    )
        return data


class MockSpec(Model):
    """The far side: stubs (the mock server's own model) and fake CRMs."""

    stubs: list[Stub] = Field(default_factory=list)
    crm: CrmSpec = Field(default_factory=CrmSpec)
    strict: Flag = Field(default=True, description="fail on unmatched requests and unused stubs")

    @field_validator("stubs", mode="before")
    @classmethod
    def _stub_texts(cls, value: Any) -> Any:
        return [stub_texts(item) for item in value] if isinstance(value, list) else value
