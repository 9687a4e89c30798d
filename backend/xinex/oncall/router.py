"""/alert-routing-rules and /escalation-policies CRUD."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.oncall import EscalationPolicy, RoutingRule
from xinex.oncall import manage
from xinex.oncall.schemas import PolicyIn, PolicyOut, RoutingRuleIn, RoutingRuleOut

router = APIRouter(tags=["on-call"])
OnCallPrincipal = Annotated[Principal, Depends(Authorize("oncall"))]


def _rule_out(rule: RoutingRule) -> RoutingRuleOut:
    return RoutingRuleOut.model_validate(rule)


@router.get("/alert-routing-rules", response_model=Page[RoutingRuleOut], responses=error_responses(401, 403, 422))
async def list_rules(principal: OnCallPrincipal, session: SessionDep, params: PageDep):
    """Alert-routing rules in evaluation order (position): the first enabled rule whose matchers (source, tags,
    severities, host, service, project) fit an alert decides who is paged; alerts no rule matches go to the
    default route."""
    stmt = select(RoutingRule).order_by(RoutingRule.is_default, RoutingRule.position, RoutingRule.created_at,
                                        RoutingRule.id)
    items, total = await paginate(session, stmt, params)
    return Page.of([_rule_out(r) for r in items], total, params)


@router.post("/alert-routing-rules", status_code=201, response_model=RoutingRuleOut,
             responses=error_responses(401, 403, 409, 422))
async def create_rule(data: RoutingRuleIn, request: Request, response: Response, principal: OnCallPrincipal,
                      session: SessionDep):
    """Add a routing rule that sends matching alerts to an escalation policy and/or channels (at least one, else
    422). The default route exists once per tenant and cannot be created (is_default true is refused);
    channels and policies must be this tenant's."""
    rule = await manage.apply_rule(session, RoutingRule(name=data.name), data)
    await session.flush()
    audit.record(session, "routing_rule.created", request=request, principal=principal, target_type="routing_rule",
                 target_id=rule.id, details={"name": rule.name})
    set_version(response, rule)
    return _rule_out(rule)


@router.get("/alert-routing-rules/{rule_id}", response_model=RoutingRuleOut,
            responses=error_responses(401, 403, 404, 422))
async def read_rule(rule_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep):
    """One routing rule. 404: no such rule in this tenant."""
    rule = await manage.get(session, RoutingRule, rule_id, "routing rule")
    set_version(response, rule)
    return _rule_out(rule)


@router.put("/alert-routing-rules/{rule_id}", response_model=RoutingRuleOut,
            responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_rule(rule_id: uuid.UUID, data: RoutingRuleIn, request: Request, response: Response,
                      principal: OnCallPrincipal, session: SessionDep):
    """Replace a rule's definition (the whole body, as on create). The default route stays the default route:
    change its channels or disable it. If-Match guards against lost updates (412)."""
    rule = await manage.get(session, RoutingRule, rule_id, "routing rule")
    check_if_match(request, rule)
    await manage.apply_rule(session, rule, data)
    rule.updated_at = utcnow()
    await session.flush()
    audit.record(session, "routing_rule.updated", request=request, principal=principal, target_type="routing_rule",
                 target_id=rule.id, details={"name": rule.name})
    set_version(response, rule)
    return _rule_out(rule)


@router.delete("/alert-routing-rules/{rule_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_rule(rule_id: uuid.UUID, request: Request, principal: OnCallPrincipal, session: SessionDep):
    """Delete a routing rule. 409: the default route cannot be deleted (disable it or take its channels off).
    If-Match guards (412)."""
    rule = await manage.get(session, RoutingRule, rule_id, "routing rule")
    check_if_match(request, rule)
    if rule.is_default:
        raise AppError("CONFLICT", "The default route cannot be deleted: disable it, or take its channels off")
    await session.delete(rule)
    audit.record(session, "routing_rule.deleted", request=request, principal=principal, target_type="routing_rule",
                 target_id=rule.id, details={"name": rule.name})
    return Response(status_code=204)


# --- escalation policies -----------------------------------------------------------------------

@router.get("/escalation-policies", response_model=Page[PolicyOut], responses=error_responses(401, 403, 422))
async def list_policies(principal: OnCallPrincipal, session: SessionDep, params: PageDep):
    """Escalation policies: who is paged, in which order, until someone acknowledges."""
    items, total = await paginate(session, select(EscalationPolicy).order_by(EscalationPolicy.name,
                                                                             EscalationPolicy.id), params)
    return Page.of([PolicyOut.model_validate(p) for p in items], total, params)


@router.post("/escalation-policies", status_code=201, response_model=PolicyOut,
             responses=error_responses(401, 403, 422))
async def create_policy(data: PolicyIn, request: Request, response: Response, principal: OnCallPrincipal,
                        session: SessionDep):
    """Create an escalation policy: steps, each after delay_minutes, paging its targets (users, schedules' on-call
    person, channels; round-robin optional), repeated `repeat` times. Targets must belong to this tenant
    (422 naming the unknown ones)."""
    policy = await manage.apply_policy(session, principal.tenant_id, EscalationPolicy(name=data.name), data)
    await session.flush()
    audit.record(session, "escalation_policy.created", request=request, principal=principal,
                 target_type="escalation_policy", target_id=policy.id, details={"name": policy.name})
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.get("/escalation-policies/{policy_id}", response_model=PolicyOut, responses=error_responses(401, 403, 404, 422))
async def read_policy(policy_id: uuid.UUID, response: Response, principal: OnCallPrincipal, session: SessionDep):
    """One escalation policy. 404: no such policy in this tenant."""
    policy = await manage.get(session, EscalationPolicy, policy_id, "escalation policy")
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.put("/escalation-policies/{policy_id}", response_model=PolicyOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_policy(policy_id: uuid.UUID, data: PolicyIn, request: Request, response: Response,
                        principal: OnCallPrincipal, session: SessionDep):
    """Replace a policy's definition (the whole body, as on create). If-Match guards against lost updates (412)."""
    policy = await manage.get(session, EscalationPolicy, policy_id, "escalation policy")
    check_if_match(request, policy)
    await manage.apply_policy(session, principal.tenant_id, policy, data)
    policy.updated_at = utcnow()
    await session.flush()
    audit.record(session, "escalation_policy.updated", request=request, principal=principal,
                 target_type="escalation_policy", target_id=policy.id, details={"name": policy.name})
    set_version(response, policy)
    return PolicyOut.model_validate(policy)


@router.delete("/escalation-policies/{policy_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_policy(policy_id: uuid.UUID, request: Request, principal: OnCallPrincipal, session: SessionDep):
    """Delete an escalation policy. 409: a routing rule still uses it. If-Match guards (412)."""
    policy = await manage.get(session, EscalationPolicy, policy_id, "escalation policy")
    check_if_match(request, policy)
    if await manage.policy_in_use(session, policy.id):
        raise AppError("CONFLICT", "a routing rule uses this escalation policy")
    await session.delete(policy)
    audit.record(session, "escalation_policy.deleted", request=request, principal=principal,
                 target_type="escalation_policy", target_id=policy.id, details={"name": policy.name})
    return Response(status_code=204)
