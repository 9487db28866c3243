"""Knowledge questions: answered from the knowledge sections that retrieval puts into the context."""

from __future__ import annotations

import re

from domainlm.data import phrasing as ph
from domainlm.data.generators.base import GENERATORS, Generator
from domainlm.data.records import Draft, Sample
from domainlm.prompt import Context, passage_text, topic_in_sentence

KNOWLEDGE_QUESTIONS = [
    "What's your {topic} policy?", "Tell me about {topic}.", "How does {topic} work?", "Can you explain {topic}?",
    "{Topic}?", "I have a question about {topic}.", "What should I know about {topic}?", "How do you handle {topic}?",
    "Could you tell me about {topic}, please?", "Info on {topic}?", "what about {topic}", "Hi! Quick question on {topic}.",
    "Where can I read about {topic}? Or just tell me.", "What are the rules for {topic}?", "Explain {topic} to me.",
    "Anything I need to know regarding {topic}?", "How does {topic} work with your shop?", "{Topic}: how does it work?",
    "Can you walk me through {topic}?", "What's the deal with {topic}?",
]
KNOWLEDGE_ANSWERS = ["{text}", "Here's how it works at {shop}: {text}", "Good question! {text}",
                     "On {topic}: {text}", "{text} Anything else I can help with?"]


@GENERATORS.register("knowledge")
class Knowledge(Generator):
    kind = "knowledge"
    purpose = "policies and know-how answered from the knowledge documents"
    base_difficulty = 0.2

    def plan(self, n: int) -> list[Draft]:
        sections = list(self.env.sections)
        if not sections:
            return []
        drafts = []
        for i in range(n):
            section = sections[i % len(sections)]
            if i % len(sections) == len(sections) - 1:
                self.rng.shuffle(sections)
            topic = section.headings[-1] if section.headings else section.source
            topic_lower = topic_in_sentence(topic)
            question = self.pick(KNOWLEDGE_QUESTIONS).format(topic=topic_lower, Topic=topic)
            drafts.append(self.draft([ph.vary_casing(question, self.rng)], self.next_split(),
                                     section_id=section.id, topic=topic_lower))
        return drafts

    def finish(self, draft: Draft, context: Context) -> Sample | None:
        found = [s for s in context.passages if s.id == draft.plan["section_id"]]
        if not found:
            return None
        text = passage_text(found[0])
        answer = self.pick(KNOWLEDGE_ANSWERS).format(text=text, shop=self.env.brand.shop_name, topic=draft.plan["topic"])
        rejected = _perturb_numbers(text) or "I'm not sure about that; you could check another shop's website."
        return self.sample(draft, context, [answer], [], rejected, section=found[0].id)


def _perturb_numbers(text: str) -> str | None:
    """The passage with its first number changed: a realistic wrong answer."""
    match = re.search(r"\d+", text)
    if not match:
        return None
    wrong = str(int(match.group(0)) + 7)
    return text[: match.start()] + wrong + text[match.end():]
