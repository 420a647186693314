"""The territory rule engine: rules compiled into bitmask indexes, matched in microseconds.

Business rules:
- A territory's rules are all ANDed; an empty rule is open (matches anything).
- Countries, states and the industry compare case-insensitively. Postal codes
  are exact codes ("94107", also matching "94107-1234"), prefixes ("941*") or
  inclusive ranges ("94100-94199"). Numeric bounds are inclusive; an empty
  bound is open. A rule that names a value the record lacks fails.
- A child territory only matches records that all its ancestors match.
- Conflicts: the deepest matching territory wins, then the one whose rules
  name more criteria, then the higher priority, then the older one (then the
  lower id), so there is always exactly one winner.

This module knows nothing about the database: `compile_index` takes plain
rows (dicts of Territory fields), so the same engine serves the active model,
planning models and previews of unsaved rule edits.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

RULE_FIELDS = (
    "countries", "states", "zip_codes", "industry",
    "min_employee_count", "max_employee_count", "min_annual_revenue", "max_annual_revenue",
)


# --- normalisation -------------------------------------------------------------

def norm_code(value) -> str:
    return str(value).strip().upper() if value not in (None, "") else ""


def norm_zip(value) -> str:
    return str(value).replace(" ", "").strip().upper() if value not in (None, "") else ""


def norm_industry(value) -> str:
    return " ".join(str(value).split()).lower() if value not in (None, "") else ""


def to_int(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def to_decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def normalize_record(record: Mapping) -> dict:
    """The record's matching attributes, normalised (missing keys become None/"")."""
    get = record.get
    return {
        "country": norm_code(get("country")),
        "state": norm_code(get("state")),
        "postal_code": norm_zip(get("postal_code")),
        "industry": norm_industry(get("industry")),
        "employee_count": to_int(get("employee_count")),
        "annual_revenue": to_decimal(get("annual_revenue")),
    }


def parse_zip_entry(entry) -> tuple[str, str, str]:
    """("exact"|"prefix"|"range", a, b) for one zip rule entry; ValueError names the problem."""
    text = norm_zip(entry)
    if not text:
        raise ValueError("an empty postal code entry")
    if text.endswith("*"):
        prefix = text[:-1]
        if not prefix or "*" in prefix:
            raise ValueError(f"{entry!r}: a prefix is written like 941*")
        return ("prefix", prefix, "")
    if "-" in text and text.count("-") == 1:
        lo, hi = text.split("-")
        # "94107-1234" (ZIP+4) is an exact code, not a range.
        if len(lo) == len(hi) and lo and lo.isdigit() == hi.isdigit():
            if lo > hi:
                raise ValueError(f"{entry!r}: the range starts after it ends")
            return ("range", lo, hi)
    if "*" in text:
        raise ValueError(f"{entry!r}: * may only end a prefix")
    return ("exact", text, "")


def zip_matches(kind: str, a: str, b: str, postal: str) -> bool:
    if not postal:
        return False
    if kind == "exact":
        return postal == a or postal.startswith(a + "-")
    if kind == "prefix":
        return postal.startswith(a)
    head = postal[: len(a)]
    if len(head) < len(a):
        return False
    if a.isdigit() and head.isdigit():
        return int(a) <= int(head) <= int(b)
    return a <= head <= b


# --- plain words -----------------------------------------------------------------

def _fmt_number(value) -> str:
    d = to_decimal(value)
    if d is None:
        return ""
    return f"{d:,.0f}" if d == d.to_integral_value() else f"{d:,.2f}"


def _bounds_words(lo, hi, noun: str) -> str:
    if lo is not None and hi is not None:
        return f"{noun} between {_fmt_number(lo)} and {_fmt_number(hi)}"
    if lo is not None:
        return f"{noun} at least {_fmt_number(lo)}"
    return f"{noun} at most {_fmt_number(hi)}"


def rules_in_words(row: Mapping) -> list[str]:
    """Each rule of a territory as a short sentence; an empty list means it takes everything."""
    words = []
    if row.get("countries"):
        words.append("Country is " + " or ".join(norm_code(c) for c in row["countries"]))
    if row.get("states"):
        words.append("State is " + " or ".join(norm_code(s) for s in row["states"]))
    if row.get("zip_codes"):
        parts = []
        for entry in row["zip_codes"]:
            try:
                kind, a, b = parse_zip_entry(entry)
            except ValueError:
                parts.append(str(entry))
                continue
            parts.append({"exact": a, "prefix": f"starting {a}", "range": f"{a} to {b}"}[kind])
        words.append("Postal code " + ", ".join(parts))
    if row.get("industry"):
        words.append(f"Industry is {row['industry']}")
    lo, hi = row.get("min_employee_count"), row.get("max_employee_count")
    if lo is not None or hi is not None:
        words.append(_bounds_words(lo, hi, "Employees"))
    lo, hi = row.get("min_annual_revenue"), row.get("max_annual_revenue")
    if lo is not None or hi is not None:
        words.append(_bounds_words(lo, hi, "Annual revenue"))
    return words


# --- compiled index ---------------------------------------------------------------

@dataclass(eq=False)
class Compiled:
    """One territory's rules, ready to test."""

    id: int
    name: str
    parent_id: int | None
    priority: int
    created_at: datetime | None
    countries: frozenset
    states: frozenset
    zips: tuple
    industry: str
    emp: tuple
    rev: tuple
    criteria: int
    words: list
    texts: dict = field(default_factory=dict)  # rule values in words, computed once
    depth: int = 0
    bit: int = 0
    ancestors: int = 0  # mask of ancestors' bits
    children: list = field(default_factory=list)
    chain: list = field(default_factory=list)  # ancestor ids, root first

    def sort_key(self):
        created = self.created_at.timestamp() if self.created_at else 0.0
        return (-self.depth, -self.criteria, -self.priority, created, self.id)

    def bounds_ok(self, emp, rev) -> bool:
        lo, hi = self.emp
        if lo is not None or hi is not None:
            if emp is None or (lo is not None and emp < lo) or (hi is not None and emp > hi):
                return False
        lo, hi = self.rev
        if lo is not None or hi is not None:
            if rev is None or (lo is not None and rev < lo) or (hi is not None and rev > hi):
                return False
        return True


def compile_row(row: Mapping) -> Compiled:
    zips = tuple(parse_zip_entry(z) for z in row.get("zip_codes") or ())
    emp = (to_int(row.get("min_employee_count")), to_int(row.get("max_employee_count")))
    rev = (to_decimal(row.get("min_annual_revenue")), to_decimal(row.get("max_annual_revenue")))
    industry = norm_industry(row.get("industry"))
    countries = frozenset(norm_code(c) for c in row.get("countries") or () if norm_code(c))
    states = frozenset(norm_code(s) for s in row.get("states") or () if norm_code(s))
    criteria = sum(bool(x) for x in (countries, states, zips, industry)) + (emp != (None, None)) + (rev != (None, None))
    texts = {
        "countries": ", ".join(sorted(countries)),
        "states": ", ".join(sorted(states)),
        "zip_codes": ", ".join(b and f"{a}-{b}" or (a + "*" if k == "prefix" else a) for k, a, b in zips),
        "employee_count": _bounds_words(emp[0], emp[1], "employees") if emp != (None, None) else "",
        "annual_revenue": _bounds_words(rev[0], rev[1], "annual revenue") if rev != (None, None) else "",
    }
    return Compiled(
        texts=texts, id=row["id"], name=row.get("name", ""), parent_id=row.get("parent_id"), priority=row.get("priority") or 0,
        created_at=row.get("created_at"), countries=countries, states=states, zips=zips, industry=industry,
        emp=emp, rev=rev, criteria=criteria, words=rules_in_words(row),
    )


class _Dim:
    """One discrete attribute: value -> mask of territories requiring it, plus the open mask."""

    __slots__ = ("by_value", "open")

    def __init__(self):
        self.by_value: dict[str, int] = {}
        self.open = 0

    def add(self, values: Iterable[str], bit: int) -> None:
        values = list(values)
        if not values:
            self.open |= bit
        for v in values:
            self.by_value[v] = self.by_value.get(v, 0) | bit

    def mask(self, value: str) -> int:
        return self.open | self.by_value.get(value, 0) if value else self.open


def _effective(t: Compiled, kept: dict) -> tuple[list[str], list[str], list[str]]:
    """Country, state and industry values a record needs to pass `t` and all its ancestors.

    An empty list is open; a contradiction (parent US, child DE) gives a value
    no record has, so the territory is never a candidate.
    """
    out = []
    for attr in ("countries", "states", "industry"):
        allowed = None
        for node in [*(kept[a] for a in t.chain), t]:
            raw = getattr(node, attr)
            values = {raw} if isinstance(raw, str) and raw else set(raw or ())
            if values:
                allowed = values if allowed is None else allowed & values
        if allowed is None:
            out.append([])
        else:
            out.append(sorted(allowed) or ["\x00never"])
    return out[0], out[1], out[2]


class TerritoryIndex:
    """Active rules compiled for matching. Bits are assigned in tie-break order, so among
    matching territories the lowest bit is the winner."""

    def __init__(self, rows: Iterable[Mapping], objects: Mapping | None = None):
        by_id = {row["id"]: compile_row(row) for row in rows}
        # Drop territories whose parent is missing (inactive or outside the model): their whole subtree.
        kept: dict[int, Compiled] = {}

        def chain_of(t: Compiled, seen: tuple = ()) -> list[int] | None:
            if t.parent_id is None:
                return []
            parent = by_id.get(t.parent_id)
            if parent is None or parent.id in seen:
                return None
            up = chain_of(parent, seen + (t.id,))
            return None if up is None else up + [parent.id]

        for t in by_id.values():
            chain = chain_of(t)
            if chain is not None:
                t.chain, t.depth = chain, len(chain)
                kept[t.id] = t
        ordered = sorted(kept.values(), key=Compiled.sort_key)
        for i, t in enumerate(ordered):
            t.bit = 1 << i
        for t in ordered:
            for anc in t.chain:
                t.ancestors |= kept[anc].bit
            if t.parent_id in kept:
                kept[t.parent_id].children.append(t)
        self.entries = ordered
        self.by_id = kept
        self.objects = dict(objects or {})
        self.country, self.state, self.industry = _Dim(), _Dim(), _Dim()
        self.zip_open = 0
        self.zip_exact: dict[str, int] = {}
        self.zip_prefix: dict[int, dict[str, int]] = {}
        # Numeric ranges by code length: sorted segment starts and the mask of ranges covering each segment.
        self.zip_segments: dict[int, tuple[list[int], list[int]]] = {}
        self.zip_text_ranges: list[tuple[str, str, int]] = []
        self.bounded = 0
        numeric: dict[int, list[tuple[int, int, int]]] = {}
        for t in ordered:
            # Discrete rules are indexed with the ancestors' rules folded in, so a child
            # is never a candidate where its parents cannot match (a big prune for
            # children with open rules); the exact ancestor check still follows.
            countries, states, industries = _effective(t, kept)
            self.country.add(countries, t.bit)
            self.state.add(states, t.bit)
            self.industry.add(industries, t.bit)
            if not t.zips:
                self.zip_open |= t.bit
            for kind, a, b in t.zips:
                if kind == "exact":
                    self.zip_exact[a] = self.zip_exact.get(a, 0) | t.bit
                elif kind == "prefix":
                    level = self.zip_prefix.setdefault(len(a), {})
                    level[a] = level.get(a, 0) | t.bit
                elif a.isdigit() and b.isdigit():
                    numeric.setdefault(len(a), []).append((int(a), int(b), t.bit))
                else:
                    self.zip_text_ranges.append((a, b, t.bit))
            if t.emp != (None, None) or t.rev != (None, None):
                self.bounded |= t.bit
        for length, ranges in numeric.items():
            starts = sorted({lo for lo, _, _ in ranges} | {hi + 1 for _, hi, _ in ranges})
            masks = []
            for point in starts:
                m = 0
                for lo, hi, bit in ranges:
                    if lo <= point <= hi:
                        m |= bit
                masks.append(m)
            self.zip_segments[length] = (starts, masks)

    def __len__(self) -> int:
        return len(self.entries)

    def _zip_mask(self, postal: str) -> int:
        mask = self.zip_open
        if not postal:
            return mask
        mask |= self.zip_exact.get(postal, 0)
        base = postal.split("-", 1)[0]
        if base != postal:
            mask |= self.zip_exact.get(base, 0)
        for length, level in self.zip_prefix.items():
            if len(postal) >= length:
                mask |= level.get(postal[:length], 0)
        for length, (starts, masks) in self.zip_segments.items():
            head = postal[:length]
            if len(head) == length and head.isdigit():
                k = bisect_right(starts, int(head)) - 1
                if k >= 0:
                    mask |= masks[k]
        for a, b, bit in self.zip_text_ranges:
            if not mask & bit and zip_matches("range", a, b, postal):
                mask |= bit
        return mask

    def own_mask(self, rec: dict) -> int:
        """Territories whose own rules, and their ancestors' country, state and industry rules, match."""
        mask = self.country.mask(rec["country"]) & self.state.mask(rec["state"])
        if not mask:
            return 0
        mask &= self.industry.mask(rec["industry"])
        if not mask:
            return 0
        if mask & ~self.zip_open:
            mask &= self._zip_mask(rec["postal_code"])
        check = mask & self.bounded
        emp, rev = rec["employee_count"], rec["annual_revenue"]
        while check:
            low = check & -check
            check ^= low
            if not self.entries[low.bit_length() - 1].bounds_ok(emp, rev):
                mask ^= low
        return mask

    def effective_mask(self, own: int) -> int:
        """Of the own-matching territories, those whose ancestors all match too."""
        eff = 0
        m = own
        while m:
            low = m & -m
            m ^= low
            t = self.entries[low.bit_length() - 1]
            if own & t.ancestors == t.ancestors:
                eff |= low
        return eff

    def match_id(self, record: Mapping) -> int | None:
        """The winning territory id for a record (the fast path: no explanation)."""
        eff = self.effective_mask(self.own_mask(normalize_record(record)))
        if not eff:
            return None
        return self.entries[(eff & -eff).bit_length() - 1].id

    def explain(self, record: Mapping) -> tuple[Compiled | None, list[dict], str]:
        """The winner, the explanation (one dict per candidate) and a short reason."""
        rec = normalize_record(record)
        own = self.own_mask(rec)
        eff = self.effective_mask(own)
        winner = self.entries[(eff & -eff).bit_length() - 1] if eff else None
        runner_up = None
        if eff:
            rest = eff ^ winner.bit
            if rest:
                runner_up = self.entries[(rest & -rest).bit_length() - 1]
        # Candidates: every territory whose rules match, and the winner's children
        # (the "why not deeper" answers), in tie-break order.
        cand = own
        if winner is not None:
            for child in winner.children:
                cand |= child.bit
        explanation = []
        m = cand
        while m:
            low = m & -m
            m ^= low
            t = self.entries[low.bit_length() - 1]
            rules = rule_checks(t, rec)
            entry = {
                "territory_id": t.id,
                "name": t.name,
                "depth": t.depth,
                "criteria": t.criteria,
                "priority": t.priority,
                "rules": rules,
                "matched": bool(eff & low),
            }
            if eff & low:
                if t is winner:
                    entry["outcome"] = "won: " + _why_won(t, runner_up)
                else:
                    entry["outcome"] = f"lost to {winner.name}: " + _why_won(winner, t)
            elif own & low:
                failed = [self.by_id[a].name for a in t.chain if not own & self.by_id[a].bit]
                entry["outcome"] = "its rules match, but not those of its parent territory " + ", ".join(failed)
            else:
                misses = [r["detail"] for r in rules if not r["matched"]]
                entry["outcome"] = "did not match: " + "; ".join(misses)
            explanation.append(entry)
        if winner is None:
            reason = "no territory matches"
        else:
            named = [r["short"] for r in rule_checks(winner, rec) if r["short"]]
            reason = f"territory {winner.name}: " + (", ".join(named) if named else "takes every record")
        return winner, explanation, reason


def _why_won(winner: Compiled, other: Compiled | None) -> str:
    if other is None:
        return "the only matching territory"
    if winner.depth != other.depth:
        return f"deeper in the hierarchy (level {winner.depth + 1}) than {other.name} (level {other.depth + 1})"
    if winner.criteria != other.criteria:
        return f"its rules name more criteria ({winner.criteria}) than {other.name} ({other.criteria})"
    if winner.priority != other.priority:
        return f"higher priority ({winner.priority}) than {other.name} ({other.priority})"
    if (winner.created_at or 0) != (other.created_at or 0):
        return f"created before {other.name}"
    return f"a tie with {other.name} on every rule; the lower id wins"


def rule_checks(t: Compiled, rec: dict) -> list[dict]:
    """Each rule of `t` against the normalised record: matched or not, and why in plain words."""
    out = []

    def add(rule, ok, detail, short=""):
        out.append({"rule": rule, "matched": ok, "detail": detail, "short": short if ok else ""})

    if t.countries:
        v, allowed = rec["country"], t.texts["countries"]
        if not v:
            add("countries", False, f"country unknown (needs {allowed})")
        else:
            ok = v in t.countries
            add("countries", ok, f"country {v} {'is' if ok else 'is not'} in {allowed}", f"country {v}")
    if t.states:
        v, allowed = rec["state"], t.texts["states"]
        if not v:
            add("states", False, f"state unknown (needs {allowed})")
        else:
            ok = v in t.states
            add("states", ok, f"state {v} {'is' if ok else 'is not'} in {allowed}", f"state {v}")
    if t.zips:
        v = rec["postal_code"]
        listed = t.texts["zip_codes"]
        if not v:
            add("zip_codes", False, f"postal code unknown (needs {listed})")
        else:
            ok = any(zip_matches(k, a, b, v) for k, a, b in t.zips)
            add("zip_codes", ok, f"postal code {v} {'matches' if ok else 'does not match'} {listed}", f"postal code {v}")
    if t.industry:
        v = rec["industry"]
        if not v:
            add("industry", False, f"industry unknown (needs {t.industry})")
        else:
            ok = v == t.industry
            add("industry", ok, f"industry {v} {'is' if ok else 'is not'} {t.industry}", f"industry {v}")
    for rule, (lo, hi), value, noun in (
        ("employee_count", t.emp, rec["employee_count"], "employees"),
        ("annual_revenue", t.rev, rec["annual_revenue"], "annual revenue"),
    ):
        if lo is None and hi is None:
            continue
        want = t.texts[rule]
        if value is None:
            add(rule, False, f"{noun} unknown (needs {want})")
            continue
        ok = (lo is None or value >= lo) and (hi is None or value <= hi)
        add(rule, ok, f"{_fmt_number(value)} {noun}: {'within' if ok else 'outside'} {want}",
            f"{_fmt_number(value)} {noun}")
    return out
