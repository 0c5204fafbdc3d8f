"""Demo data for `manage.py seed_contacts` (README "Demo logins"; docs/architecture.md).

Idempotent: everything has a stable identity (users by username, workspaces by slug, seeded
contacts by a UUID derived from their workspace and position), and a run only adds what is
missing. Generation is reproducible (fixed seeds), so contact number 17 of a workspace is the
same person on every run and `--contacts 500` after `--contacts 300` adds the 200 after them.

Workspaces, memberships and tags go through `contacts.services` like any other write (users are
created directly: there is no user service). Contacts and their tag links are inserted with
`bulk_create` instead: hundreds of per-contact service calls would each bump the workspace
version and announce an event nobody is listening to. The rows are validated the same way first
(`clean_fields`, derived fields), each workspace's batch is one transaction, and the workspace
version is bumped once at the end (`services.workspace_bump_version`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import factory.random
import faker.generator
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from contacts import selectors, services
from contacts.dbengine import atomic
from contacts.demo_text import COMPANY_NAMES, JOB_TITLES, note
from contacts.factories import DEFAULT_PASSWORD, ContactFactory
from contacts.models import Contact, ContactStatus, ContactTag, Membership, Role, Workspace, fold

logger = logging.getLogger(__name__)

DEMO_PASSWORD = DEFAULT_PASSWORD
SEED = "contacts-demo-v1"
# Seeded contact ids are uuid5(namespace, "<workspace id>:<n>"): re-runs recognise them.
CONTACT_ID_NAMESPACE = uuid.UUID("5f0c8d52-6a4e-4c1b-9a57-1d1f0c6e2b7a")
HISTORY = timedelta(days=730)  # contacts were added over the last 24 months
SAMPLE_SIZE = 5
BATCH_SIZE = 500
MIN_WORKSPACES = 2

WORKSPACE_NAMES = [
    ("Acme Sales", "acme-sales"),
    ("Globex Procurement", "globex-procurement"),
    ("Initech Partnerships", "initech-partnerships"),
    ("Umbrella Events", "umbrella-events"),
    ("Hooli Recruiting", "hooli-recruiting"),
]
# How often each tag is drawn: a few common ones, a long tail.
TAG_WEIGHTS = {
    "prospect": 12,
    "newsletter": 10,
    "customer": 9,
    "follow-up": 8,
    "decision maker": 6,
    "partner": 5,
    "vip": 4,
    "supplier": 4,
    "trade show 2025": 4,
    "event 2026": 3,
    "referral": 3,
    "enterprise": 3,
    "renewal q3": 2,
    "churn risk": 2,
    "press": 1,
}
TAGS_PER_CONTACT = [0, 1, 1, 2, 2, 2, 3, 3, 4]
STATUS_WEIGHTS = {ContactStatus.LEAD: 45, ContactStatus.ACTIVE: 45, ContactStatus.ARCHIVED: 10}
COMPANY_POOL_SIZE = 40  # fixed, so a larger --contacts run extends the same workspace


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    # Role per workspace position; `None` as key means "every workspace".
    roles: dict[int | None, Role] = field(default_factory=dict)
    superuser: bool = False


# Alice and Bob each belong to one workspace only: the contract's "a user who is not a member
# of the other", and the pair the isolation demos and tests sign in as.
DEMO_USERS = [
    DemoUser("demo", "Dana", "Demo", {None: Role.OWNER}),
    DemoUser("alice", "Alice", "Archer", {0: Role.MEMBER}),
    DemoUser("bob", "Bob", "Baker", {1: Role.MEMBER}),
    DemoUser("viewer", "Vic", "Viewer", {0: Role.VIEWER}),
    DemoUser("admin", "Site", "Admin", superuser=True),
]


@dataclass
class SeedResult:
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("users", "workspaces", "memberships", "contacts", "tags"), 0)
    )
    users: list[AbstractBaseUser] = field(default_factory=list)
    # Usernames whose password is no longer the demo password (changed since, not reset).
    passwords_changed: set[str] = field(default_factory=set)


def seed_demo(*, workspaces: int = 2, contacts: int = 300, reset_passwords: bool = False) -> SeedResult:
    """Create whatever part of the demo data set is missing; `contacts` is per workspace."""
    if workspaces < MIN_WORKSPACES:
        raise ValueError(f"The demo needs at least {MIN_WORKSPACES} workspaces (got {workspaces}).")
    if contacts < 0:
        raise ValueError(f"The number of contacts cannot be negative (got {contacts}).")
    result = SeedResult()
    users = _users(result, reset_passwords=reset_passwords)
    result.users = list(users.values())
    owner = users["demo"]
    for position in range(workspaces):
        workspace = _workspace(position, owner, result)
        for spec in DEMO_USERS:
            role = spec.roles.get(position, spec.roles.get(None))
            if role is not None:
                _membership(workspace, users[spec.username], role, result)
        _contacts(workspace, owner, contacts, result)
    return result


def workspace_name(position: int) -> tuple[str, str]:
    if position < len(WORKSPACE_NAMES):
        return WORKSPACE_NAMES[position]
    return f"Demo Team {position + 1}", f"demo-team-{position + 1}"


# --- users, workspaces, memberships (through services) -------------------------------------------


def _users(result: SeedResult, *, reset_passwords: bool) -> dict[str, AbstractBaseUser]:
    """The demo users, created if missing. Existing passwords are only checked, never changed silently.

    Hashing is deliberately slow (~0.5 s), so the demo users share one hash of the one demo
    password: one hashing to create them all, one check per distinct stored hash afterwards.
    """
    user_model = get_user_model()
    existing = {
        user.username: user
        for user in user_model.objects.filter(username__in=[u.username for u in DEMO_USERS])
    }
    shared_hash = functools.cache(lambda: make_password(DEMO_PASSWORD))
    verdicts: dict[str, bool] = {}  # stored hash → is it the demo password?
    users = {}
    for spec in DEMO_USERS:
        user = existing.get(spec.username)
        if user is None:
            logger.info("Creating user %s", spec.username)
            user = user_model.objects.create(
                username=spec.username,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=f"{spec.username}@example.com",
                password=shared_hash(),
                is_staff=spec.superuser,
                is_superuser=spec.superuser,
            )
            result.created["users"] += 1
        else:
            if user.password not in verdicts:
                verdicts[user.password] = check_password(DEMO_PASSWORD, user.password)
            if not verdicts[user.password]:
                if reset_passwords:
                    user.password = shared_hash()
                    user.save(update_fields=["password"])
                    logger.info("Reset the password of %s", spec.username)
                else:
                    result.passwords_changed.add(spec.username)
        users[spec.username] = user
    return users


def _workspace(position: int, owner: AbstractBaseUser, result: SeedResult) -> Workspace:
    name, slug = workspace_name(position)
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        logger.info("Creating workspace %s", name)
        workspace = services.workspace_create(name=name, slug=slug, owner=owner)
        result.created["workspaces"] += 1
        result.created["memberships"] += 1
    return workspace


def _membership(workspace: Workspace, user: AbstractBaseUser, role: Role, result: SeedResult) -> None:
    # An existing membership keeps its role: someone may have changed it on purpose.
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        services.membership_set(workspace=workspace, user=user, role=role)
        result.created["memberships"] += 1


# --- contacts (bulk) ---------------------------------------------------------------------------


def _contacts(workspace: Workspace, owner: AbstractBaseUser, count: int, result: SeedResult) -> None:
    existing_ids = set(selectors.contacts_of(workspace).order_by().values_list("id", flat=True))
    missing_numbers = [n for n in range(count) if _contact_id(workspace, n) not in existing_ids]
    # Contact n depends on contacts 0..n-1 (shared random stream, e-mail de-duplication), so the
    # plan runs up to the last missing one; when none is missing, Faker is not needed at all.
    planned = _planned_contacts(workspace, owner, max(missing_numbers) + 1) if missing_numbers else []
    taken_emails = set(
        selectors.contacts_of(workspace).exclude(email=None).order_by().values_list("email", flat=True)
    )
    missing = []
    for contact, tag_names in planned:
        if contact.id in existing_ids:
            continue
        if contact.email in taken_emails:
            logger.warning("Skipping demo contact %s: %s is already in use", contact.full_name, contact.email)
            continue
        missing.append((contact, tag_names))
    tags_before = selectors.tags_of(workspace).count()
    with atomic():
        tags = {
            tag.name: tag for tag in services.tags_get_or_create(workspace=workspace, names=list(TAG_WEIGHTS))
        }
        new_contacts = [contact for contact, _ in missing]
        history = [(contact.created_at, contact.updated_at) for contact in new_contacts]
        Contact.objects.bulk_create(new_contacts, batch_size=BATCH_SIZE)
        # `auto_now_add`/`auto_now` stamp "now" on insert (on the instances too): put the history back.
        for contact, (created_at, updated_at) in zip(new_contacts, history, strict=True):
            contact.created_at, contact.updated_at = created_at, updated_at
        Contact.objects.bulk_update(new_contacts, ["created_at", "updated_at"], batch_size=BATCH_SIZE)
        ContactTag.objects.bulk_create(
            (ContactTag(contact=contact, tag=tags[name]) for contact, names in missing for name in names),
            batch_size=BATCH_SIZE,
        )
        tags_created = selectors.tags_of(workspace).count() - tags_before
        if new_contacts or tags_created:
            services.workspace_bump_version(workspace=workspace)
    result.created["contacts"] += len(new_contacts)
    result.created["tags"] += tags_created
    logger.info(
        "%s: %d demo contacts added, %d already there",
        workspace.name,
        len(new_contacts),
        count - len(missing),
    )


def _contact_id(workspace: Workspace, number: int) -> uuid.UUID:
    return uuid.uuid5(CONTACT_ID_NAMESPACE, f"{workspace.id}:{number}")


def _planned_contacts(
    workspace: Workspace, owner: AbstractBaseUser, count: int
) -> list[tuple[Contact, list[str]]]:
    """The workspace's first `count` demo contacts (unsaved), each with its tag names."""
    rng = random.Random(f"{SEED}:{workspace.slug}")
    companies = _company_pool(random.Random(f"{SEED}:{workspace.slug}:companies"))
    company_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(companies))]
    now = timezone.now()
    planned = []
    seen_emails: set[str] = set()
    with _factory_seed(f"{SEED}:{workspace.slug}:people"):
        for number in range(count):
            company = "" if rng.random() < 0.07 else rng.choices(companies, company_weights)[0]
            contact = ContactFactory.build(
                id=_contact_id(workspace, number),
                workspace=workspace,
                company=company,
                job_title=rng.choice(JOB_TITLES),
                email=None,
                status=rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0],
                created_by=owner,
            )
            contact.notes = "" if rng.random() < 0.35 else note(rng)
            contact.email = _email(contact, seen_emails)
            contact.created_at, contact.updated_at = _history(rng, now)
            # The checks a form would run (minus the foreign keys' existence: they were just read).
            contact.clean_fields(exclude=["workspace", "created_by"])
            contact.refresh_derived_fields()
            planned.append((contact, _tag_names(rng)))
    return planned


def _company_pool(rng: random.Random) -> list[str]:
    """The workspace's companies, most frequent first (each workspace its own order)."""
    return rng.sample(COMPANY_NAMES, min(COMPANY_POOL_SIZE, len(COMPANY_NAMES)))


def _email(contact: Contact, seen: set[str]) -> str:
    local = ".".join(filter(None, (_ascii(contact.first_name), _ascii(contact.last_name)))) or "contact"
    domain = f"{_ascii(contact.company.split(',')[0].split(' ')[0]) or 'mail'}.example.com"
    email, suffix = f"{local}@{domain}", 1
    while email in seen:
        suffix += 1
        email = f"{local}{suffix}@{domain}"
    seen.add(email)
    return email


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _history(rng: random.Random, now: datetime) -> tuple[datetime, datetime]:
    """When a contact was added (more of them recently, as a growing team) and last edited."""
    created = _to_ms(now - HISTORY * (rng.random() ** 1.5))
    updated = created if rng.random() < 0.4 else _to_ms(created + (now - created) * rng.random())
    return created, updated


def _to_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # MongoDB keeps milliseconds


def _tag_names(rng: random.Random) -> list[str]:
    wanted = rng.choice(TAGS_PER_CONTACT)
    names: list[str] = []
    while len(names) < wanted:
        name = rng.choices(list(TAG_WEIGHTS), list(TAG_WEIGHTS.values()))[0]
        if name not in names:
            names.append(name)
    return names


@contextlib.contextmanager
def _factory_seed(seed: str) -> Iterator[None]:
    """Seed factory-boy's Faker for reproducible people, then give callers their random state back."""
    saved = factory.random.randgen.getstate(), faker.generator.random.getstate()
    factory.random.reseed_random(seed)
    try:
        yield
    finally:
        factory.random.randgen.setstate(saved[0])
        faker.generator.random.setstate(saved[1])


# --- the report (`--json` and the human summary) -----------------------------------------------


def seed_report(result: SeedResult) -> dict[str, Any]:
    """`{"users": [...]}`, the shape `seed_contacts --json` promises (docs/architecture.md)."""
    workspace_cache: dict[uuid.UUID, dict[str, Any]] = {}

    def describe(membership: Membership) -> dict[str, Any]:
        workspace = membership.workspace
        if workspace.id not in workspace_cache:
            contacts = selectors.contacts_of(workspace)
            sample = contacts.order_by("last_name", "first_name", "id").values(
                "id", "first_name", "last_name", "email"
            )[:SAMPLE_SIZE]
            workspace_cache[workspace.id] = {
                "contact_count": contacts.count(),
                "sample_contacts": [{**row, "id": str(row["id"])} for row in sample],
            }
        cached = workspace_cache[workspace.id]
        return {
            "id": str(workspace.id),
            "slug": workspace.slug,
            "name": workspace.name,
            "role": membership.role,
            "contact_count": cached["contact_count"],
            "sample_contacts": cached["sample_contacts"],
        }

    return {
        "users": [
            {
                "username": user.username,
                "password": None if user.username in result.passwords_changed else DEMO_PASSWORD,
                "workspaces": [describe(m) for m in selectors.memberships_of(user)],
            }
            for user in result.users
        ]
    }
