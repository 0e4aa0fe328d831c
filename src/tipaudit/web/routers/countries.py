"""Country risk profiles and pre-departure information: public pages, staff-edited contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tipaudit.core.countries import all_countries, resolve_country
from tipaudit.core.roles import Permission
from tipaudit.errors import NotFoundError, TipAuditError
from tipaudit.refdata.predeparture import available_languages, load_content, page_context
from tipaudit.refdata.profiles import (
    CONVENTION_LABELS,
    ENFORCEMENT_LABELS,
    LEGAL_STANDARD_LABELS,
    CountryProfile,
    build_profile,
)
from tipaudit.services.accounts import StaffUser
from tipaudit.services.destinations import CONTACT_KINDS
from tipaudit.web.charts import tier_history_svg
from tipaudit.web.deps import ServicesDep, page_permission
from tipaudit.web.pages import render
from tipaudit.web.pdf import predeparture_pdf
from tipaudit.web.security import CSRF_FIELD, check_csrf

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Editor = Annotated[StaffUser, Depends(page_permission(Permission.REFERENCE_DATA_MANAGE))]
Lang = Annotated[str, Query(max_length=12, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]


def _profile(services: ServicesDep, code: str) -> CountryProfile:
    if len(code) > 100:
        raise NotFoundError("there is no such country")
    return build_profile(services.refdata, code)


def _canonical(profile: CountryProfile, code: str, suffix: str = "") -> str | None:
    """Redirect names and other codes to the alpha-2 address of the page."""
    if code == profile.country.alpha2:
        return None
    return f"/countries/{profile.country.alpha2}{suffix}"


@router.get("/countries")
def country_index(request: Request, services: ServicesDep, q: str = "") -> Response:
    query = q.strip()[:100]
    if query:
        resolution = resolve_country(query)
        if resolution.country is not None:
            return RedirectResponse(f"/countries/{resolution.country.alpha2}", status_code=303)
        return render(
            request,
            "countries.html",
            {"countries": all_countries(), "query": query, "problem": resolution.reason},
            status_code=404,
        )
    listed = set(services.refdata.ilab_goods().countries())
    return render(
        request,
        "countries.html",
        {"countries": all_countries(), "query": "", "problem": None, "listed": listed},
    )


@router.get("/countries/{code}")
def country_profile(request: Request, code: str, services: ServicesDep) -> Response:
    profile = _profile(services, code)
    if (target := _canonical(profile, code)) is not None:
        return RedirectResponse(target, status_code=301)
    points = [(t.report_year, t.tier.value if t.tier else None) for t in profile.tiers]
    placed = [f"{year}: {tier}" for year, tier in points if tier]
    chart = tier_history_svg(
        points,
        title=f"TIP Report tier of {profile.country.name} by report year",
        description="; ".join(placed) or "no placements",
        chart_id="tiers",
    )
    return render(
        request,
        "country.html",
        {
            "profile": profile,
            "tier_chart": chart,
            "standard_labels": LEGAL_STANDARD_LABELS,
            "convention_labels": CONVENTION_LABELS,
            "enforcement_labels": ENFORCEMENT_LABELS,
            "languages": [
                (code_, load_content(code_)["language_name"]) for code_ in available_languages()
            ],
        },
    )


def _predeparture(
    services: ServicesDep, code: str, lang: str
) -> tuple[CountryProfile, dict[str, object]]:
    profile = _profile(services, code)
    contacts = [contact for _, contact in services.destinations.contacts(profile.country.alpha3)]
    return profile, page_context(profile, lang, contacts)


@router.get("/countries/{code}/pre-departure")
def predeparture_page(
    request: Request, code: str, services: ServicesDep, lang: Lang = "en"
) -> Response:
    profile, page = _predeparture(services, code, lang)
    if (target := _canonical(profile, code, "/pre-departure")) is not None:
        return RedirectResponse(f"{target}?lang={lang}", status_code=301)
    others = [
        (code_, load_content(code_)["language_name"])
        for code_ in available_languages()
        if code_ != lang
    ]
    return render(
        request,
        "predeparture.html",
        {"profile": profile, "page": page, "lang": lang, "other_languages": others},
    )


@router.get("/countries/{code}/pre-departure.pdf")
def predeparture_download(
    request: Request, code: str, services: ServicesDep, lang: Lang = "en"
) -> Response:
    profile, page = _predeparture(services, code, lang)
    url = (
        f"{services.settings.base_url}/countries/{profile.country.alpha2}/pre-departure?lang={lang}"
    )
    body = predeparture_pdf(page, url=url)
    filename = f"pre-departure-{profile.country.alpha2.lower()}-{lang}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/countries/{code}/contacts")
def contacts_page(
    request: Request, code: str, user: Editor, services: ServicesDep, error: str | None = None
) -> Response:
    profile = _profile(services, code)
    return render(
        request,
        "destination_contacts.html",
        {
            "profile": profile,
            "contacts": services.destinations.contacts(profile.country.alpha3),
            "kinds": CONTACT_KINDS,
            "labels": load_content("en")["contact_kinds"],
            "error": error,
        },
        status_code=422 if error else 200,
    )


@router.post("/countries/{code}/contacts")
def add_contact(
    request: Request,
    code: str,
    user: Editor,
    services: ServicesDep,
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=20)] = "other",
    name: Annotated[str, Form(max_length=400)] = "",
    phone: Annotated[str, Form(max_length=120)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    website: Annotated[str, Form(max_length=600)] = "",
    hours: Annotated[str, Form(max_length=400)] = "",
    notes: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    profile = _profile(services, code)
    try:
        services.destinations.add_contact(
            user,
            profile.country.alpha3,
            kind,
            {
                "name": name,
                "phone": phone,
                "email": email,
                "website": website,
                "hours": hours,
                "notes": notes,
            },
        )
    except TipAuditError as exc:
        return contacts_page(request, code, user, services, error=exc.message)
    return RedirectResponse(f"/countries/{profile.country.alpha2}/contacts", status_code=303)


@router.post("/countries/{code}/contacts/{contact_id}/remove")
def remove_contact(
    request: Request,
    code: str,
    contact_id: int,
    user: Editor,
    services: ServicesDep,
    csrf_token: Csrf = "",
) -> Response:
    check_csrf(request, request.app.state.secret_key, csrf_token)
    profile = _profile(services, code)
    services.destinations.remove_contact(user, profile.country.alpha3, contact_id)
    return RedirectResponse(f"/countries/{profile.country.alpha2}/contacts", status_code=303)
