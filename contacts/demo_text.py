"""Words for the demo data that read like an office's contact list (Faker's job titles include
"Land" and "Make", and its paragraphs are word salad)."""

from __future__ import annotations

import random

JOB_TITLES = [
    "Account Manager",
    "Accounts Payable Clerk",
    "Business Development Manager",
    "Buyer",
    "Category Manager",
    "Chief Financial Officer",
    "Chief Operating Officer",
    "Customer Success Manager",
    "Event Coordinator",
    "Facilities Manager",
    "Finance Director",
    "Head of Marketing",
    "Head of Procurement",
    "HR Business Partner",
    "IT Manager",
    "Legal Counsel",
    "Logistics Coordinator",
    "Marketing Manager",
    "Office Manager",
    "Operations Director",
    "Partnerships Lead",
    "Procurement Specialist",
    "Product Manager",
    "Project Manager",
    "Purchasing Assistant",
    "Recruitment Consultant",
    "Sales Director",
    "Sales Executive",
    "Supply Chain Analyst",
    "Talent Acquisition Lead",
    "Managing Director",
    "Executive Assistant",
]

COMPANY_NAMES = [
    "Northwind Traders",
    "Contoso Pharmaceuticals",
    "Fabrikam Logistics",
    "Blue Yonder Airlines",
    "Tailspin Toys",
    "Wide World Importers",
    "Adventure Works Cycles",
    "Lucerne Publishing",
    "Margie's Travel",
    "Proseware",
    "Litware Systems",
    "Coho Winery",
    "Alpine Ski House",
    "Bellows College",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Southridge Video",
    "Trey Research",
    "Woodgrove Bank",
    "City Power & Light",
    "Datum Corporation",
    "Consolidated Messenger",
    "Relecloud",
    "Lamna Healthcare",
    "VanArsdel Ltd",
    "Wingtip Toys",
    "First Up Consultants",
    "Nod Publishers",
    "School of Fine Art",
    "Baldwin Museum of Science",
    "Hanover Freight",
    "Kestrel Engineering",
    "Harbour Street Dental",
    "Greenfield Catering",
    "Brightline Print & Packaging",
    "Meridian Facilities",
    "Oakridge Property Services",
    "Riverside Office Supplies",
    "Summit Recruitment",
]

_EVENTS = ["the trade fair", "the spring expo", "a supplier day", "the regional meetup", "a webinar"]
_CITIES = ["Lisbon", "Leeds", "Rotterdam", "Lyon", "Dublin", "Porto", "Hamburg", "Glasgow"]
_TOPICS = ["the annual contract", "bulk pricing", "the new catalogue", "delivery times", "a framework deal"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

NOTE_SENTENCES = [
    "Met at {event} in {city}.",
    "Interested in {topic}; send a quote before {day}.",
    "Prefers e-mail to phone calls.",
    "Best reached in the morning.",
    "Asked about {topic} and wants a call back on {day}.",
    "Introduced by a colleague from {city}.",
    "Renewal due next quarter: check in early.",
    "Needs invoices in PDF, with the order number on them.",
    "Out of office until {day}; the assistant handles urgent orders.",
    "Happy with the last delivery; may order again in spring.",
]


def note(rng: random.Random) -> str:
    """One to three sentences an office would write about a contact."""
    sentences = rng.sample(NOTE_SENTENCES, rng.randint(1, 3))
    words = {
        "event": rng.choice(_EVENTS),
        "city": rng.choice(_CITIES),
        "topic": rng.choice(_TOPICS),
        "day": rng.choice(_DAYS),
    }
    return " ".join(sentence.format(**words) for sentence in sentences)
