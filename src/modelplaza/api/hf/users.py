"""Who am I, and is this card valid: account-level endpoints the clients call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from modelplaza.api.hf import schemas
from modelplaza.api.receive import JsonObject
from modelplaza.api.routing import api_router
from modelplaza.auth.accounts import get_user
from modelplaza.auth.principal import Authenticated, Principal
from modelplaza.errors import AuthenticationRequired
from modelplaza.http.context import get_plaza
from modelplaza.http.limits import CARD_BODY, takes_body
from modelplaza.http.principals import get_principal
from modelplaza.hub import cards

router = api_router(tags=["accounts"])
Caller = Annotated[Principal, Depends(get_principal)]


@router.get("/api/whoami-v2", response_model=schemas.WhoAmI)
def whoami(request: Request, principal: Caller) -> dict:
    if not isinstance(principal, Authenticated):
        raise AuthenticationRequired("Authentication required: send a token")
    with get_plaza(request).db.read() as session:
        user = get_user(session, principal.name)
        email = user.email
        fullname = user.fullname
    return {
        "type": "user",
        "id": str(principal.user_id),
        "name": principal.name,
        "fullname": fullname,
        "email": email,
        "isAdmin": principal.is_admin,
        "orgs": [{"name": org, "roleInOrg": role} for org, role in sorted(principal.org_roles.items())],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": principal.token_name,
                "role": principal.scope.value,
            },
        },
    }


@router.post("/api/validate-yaml")
@takes_body(CARD_BODY)
def validate_yaml(body: JsonObject) -> Response:
    content = body.get("content")
    if not isinstance(content, str):
        return JSONResponse({"errors": [{"message": "'content' must be the README text"}]}, 400)
    errors = cards.validation_errors(content)
    if errors:
        return JSONResponse({"errors": [{"message": m} for m in errors]}, status_code=400)
    return JSONResponse({})
