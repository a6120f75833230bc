# /v1/rules: sync rules (price markups, stock buffers, exclusions), versioned by their save time (If-Match).
"""Rules, through `syncstore.plan.rules`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from api import etags
from api.deps import Caller, caller, engine, writer
from api.ids import Id
from api.problems import responses
from api.schemas import RuleOut
from syncstore.db.engine import transaction
from syncstore.errors import NotFoundError
from syncstore.plan import rules
from syncstore.security.auth import Permission

router = APIRouter(tags=["rules"], responses=responses(401, 429))
WRITE = Depends(writer(Permission.RULES_WRITE))


def _version(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1_000_000)


def _moment(version: int) -> datetime:
    return datetime.fromtimestamp(version / 1_000_000, tz=UTC)


def _out(rule: rules.Rule) -> RuleOut:
    data = rule.model_dump(mode="json")
    return RuleOut(**data, version=_version(rule.updated_at))


def _answer(rule: RuleOut, status: int = 200) -> JSONResponse:
    return JSONResponse(rule.model_dump(mode="json"), status_code=status, headers={"ETag": etags.etag(rule.version)})


@router.get("/rules", response_model=list[RuleOut])
def list_rules(request: Request, who: Caller = Depends(caller)) -> list[RuleOut]:
    """Every rule, in the order they apply (active first, higher priority first)."""
    with transaction(engine(request)) as session:
        return [_out(rule) for rule in rules.list_rules(session)]


@router.get("/rules/{rule_id}", response_model=RuleOut, responses=responses(404, 422))
def get_rule(request: Request, rule_id: Id, who: Caller = Depends(caller)) -> JSONResponse:
    with transaction(engine(request)) as session:
        found = [rule for rule in rules.list_rules(session) if rule.id == rule_id]
    if not found:
        raise NotFoundError(f"rule {rule_id} not found")
    return _answer(_out(found[0]))


@router.post("/rules", status_code=201, response_model=RuleOut, responses=responses(403, 422))
def create_rule(request: Request, body: rules.RuleInput, who: Caller = WRITE) -> JSONResponse:
    with transaction(engine(request)) as session:
        return _answer(_out(rules.create_rule(who.actor, session, body)), 201)


@router.put("/rules/{rule_id}", response_model=RuleOut, responses=responses(403, 404, 412, 422, 428))
def update_rule(
    request: Request, rule_id: Id, body: rules.RuleInput, who: Caller = WRITE, if_match: str | None = etags.IfMatch
) -> JSONResponse:
    """Replace a rule (If-Match: its ETag)."""
    version = etags.required_version(if_match)
    with transaction(engine(request)) as session:
        rules.check_version(session, rule_id, _moment(version))
        return _answer(_out(rules.update_rule(who.actor, session, rule_id, body, expected_updated_at=_moment(version))))


@router.delete("/rules/{rule_id}", status_code=204, responses=responses(403, 404, 412, 422, 428))
def delete_rule(request: Request, rule_id: Id, who: Caller = WRITE, if_match: str | None = etags.IfMatch) -> Response:
    version = etags.required_version(if_match)
    with transaction(engine(request)) as session:
        rules.delete_rule(who.actor, session, rule_id, expected_updated_at=_moment(version))
    return Response(status_code=204)
