"""The teacher in the build: paraphrase planned questions, rewrite answers, and keep only what is grounded.

Every teacher output is checked against the catalog (prices, numbers, product names, voice) and
rejected when wrong; rejections are counted by reason. If the endpoint goes down or only returns
garbage, the build stops asking, keeps the template samples and says so.
"""

from __future__ import annotations

import random
import re
from typing import Callable

from domainlm.catalog import Catalog
from domainlm.config import ProjectConfig
from domainlm.data.clean import voice_problem
from domainlm.data.grounding import GroundingCheck, numbers_in
from domainlm.data.records import Draft, Sample
from domainlm.data.teacher import Teacher, TeacherError, clean_reply, paraphrase_request, rewrite_request

# After this many teacher outputs with none accepted, the teacher is taken to answer garbage.
GARBAGE_AFTER = 20
# Labels from the request that a confused model copies into its reply.
ECHOED_LABELS = ("customer:", "draft answer", "rewritten answer", "rewrite this", "rewritten question")


def open_teacher(project: ProjectConfig, out_dir) -> Teacher:
    return Teacher(project.data.teacher, out_dir / ".cache" / "teacher")


def _chosen(items: list, share: float, rng: random.Random) -> list[int]:
    indexes = list(range(len(items)))
    rng.shuffle(indexes)
    return sorted(indexes[: round(len(items) * share)])


def _garbage(teacher: Teacher, seen: int, accepted: int) -> bool:
    if seen >= GARBAGE_AFTER and accepted == 0:
        teacher.stats.stopped = (f"the teacher answered garbage: none of its first {seen} outputs passed the "
                                 f"catalog checks; check data.teacher.model (kept the template samples)")
        return True
    return False


def question_problem(original: str, reply: str, must_keep: list[str]) -> str | None:
    if not reply or len(reply) > 2 * len(original) + 40:
        return "empty or too long"
    if "\n" in reply.strip():
        return "more than one line"
    if original.rstrip().endswith("?") and "?" not in reply:
        return "not a question"
    if any(label in reply.lower() for label in ECHOED_LABELS):
        return "echoes the request"
    if set(numbers_in(reply)) - set(numbers_in(original)):
        return "new numbers"
    lowered = reply.lower()
    for text in must_keep:
        if text.lower() not in lowered:
            return "dropped a product name or id"
    return None


def paraphrase_drafts(teacher: Teacher, drafts: list[Draft], project: ProjectConfig, catalog: Catalog,
                      rng: random.Random, progress: Callable, log: Callable[[str], None]) -> None:
    """Rewrite the question of a share of single-turn drafts; the retrieval query follows the new question."""
    single = [d for d in drafts if len(d.users) == 1]
    chosen = _chosen(single, project.data.teacher.share, rng)
    advance = progress("teacher: questions", len(chosen))
    names = {p.id: p.name for p in catalog}
    seen = accepted = 0
    for i in chosen:
        draft = single[i]
        original = draft.users[0]
        must_keep = [x for x in [*(names.get(pid, "") for pid in draft.focus), *draft.focus, draft.plan.get("fake", "")]
                     if x and x.lower() in original.lower()]
        try:
            reply = clean_reply(teacher.complete(paraphrase_request(original), max_tokens=80))
        except TeacherError as exc:
            teacher.stats.stopped = str(exc)
            log(f"[yellow]teacher stopped:[/] {exc}")
            return
        seen += 1
        problem = question_problem(original, reply, must_keep)
        if problem:
            teacher.stats.rejected[f"question: {problem}"] += 1
        else:
            accepted += 1
            teacher.stats.accepted += 1
            draft.users[0] = reply
            draft.query = reply
            draft.plan["teacher"] = True
        advance(1)
        if _garbage(teacher, seen, accepted):
            log(f"[yellow]teacher stopped:[/] {teacher.stats.stopped}")
            return


def answer_problem(sample: Sample, reply: str, grounding: GroundingCheck, project: ProjectConfig) -> str | None:
    original = sample.messages[-1]["content"]
    if not reply or len(reply) > 3 * len(original) + 200:
        return "empty or too long"
    if any(label in reply.lower() for label in ECHOED_LABELS):
        return "echoes the request"
    extra = str(sample.meta.get("fake_name", ""))
    if grounding.problems(reply, sample.context, allowed_extra=extra):
        return "price or number not in the catalog"
    for price in re.findall(r"\S?\d[\d,]*\.\d\d", original):
        if price not in reply:
            return "dropped a price"
    before = {p.id for p in grounding.mentioned(original)}
    after = {p.id for p in grounding.mentioned(reply)}
    if before - after:
        return "dropped a product name"
    if after - {p.id for p in sample.context.products}:
        return "named a product outside the context"
    if extra and extra.lower() not in reply.lower() and extra.lower() in original.lower():
        return "dropped the unknown product's name"
    if voice_problem(reply, project.brand):
        return "off-voice"
    return None


def rewrite_answers(teacher: Teacher, samples: list[Sample], project: ProjectConfig, grounding: GroundingCheck,
                    rng: random.Random, progress: Callable, log: Callable[[str], None]) -> None:
    """Let the teacher rewrite the answer of a share of single-turn samples; keep only grounded rewrites."""
    if teacher.stats.stopped:
        return
    single = [s for s in samples if len(s.messages) == 3]
    chosen = _chosen(single, project.data.teacher.share, rng)
    advance = progress("teacher: answers", len(chosen))
    seen = accepted = 0
    for i in chosen:
        sample = single[i]
        question, answer = sample.messages[1]["content"], sample.messages[2]["content"]
        try:
            reply = clean_reply(teacher.complete(rewrite_request(project.brand, question, answer), max_tokens=200))
        except TeacherError as exc:
            teacher.stats.stopped = str(exc)
            log(f"[yellow]teacher stopped:[/] {exc}")
            return
        seen += 1
        problem = answer_problem(sample, reply, grounding, project)
        if problem:
            teacher.stats.rejected[f"answer: {problem}"] += 1
        else:
            accepted += 1
            teacher.stats.accepted += 1
            sample.messages[2] = {"role": "assistant", "content": reply}
            sample.meta["source"] = "teacher"
        advance(1)
        if _garbage(teacher, seen, accepted):
            log(f"[yellow]teacher stopped:[/] {teacher.stats.stopped}")
            return
