"""What a speech request's `input` says, as digits: the characters people type around a
number, and digit words.

    "415-555-1234", "+1 (415) 555 1234", "4.15/555,1234", "one two three", "Oh Seven"

Digits 0-9 are read one by one; letters form words, which must be digit words (any case,
"oh" for zero); separators (whitespace, `-`, `.`, `(`, `)`, `+`, `/`, `,`) are pauses: a
run of them between two digits is one short pause (`SynthesisOptions.pauses`), and any at
the ends are dropped. Anything else is refused, naming the first character or word that
cannot be spoken."""

from __future__ import annotations

from dataclasses import dataclass

SEPARATORS = frozenset(" \t\n\r-.()+/,")
WORDS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip


class TextError(ValueError):
    """The input holds something that cannot be spoken (a 400 on the route)."""


@dataclass(frozen=True)
class Spoken:
    digits: list[int]
    pauses: frozenset[int]  # a separator stood after digit i (and a digit follows)


def _word_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isascii() and text[end].isalpha():
        end += 1
    return end


def _refuse(what: str, at: int) -> TextError:
    return TextError(
        f"cannot speak {what} at position {at}: the input may hold digits, digit words "
        "(zero or oh, one ... nine) and the separators space - . ( ) + / ,"
    )


def parse(text: str, max_digits: int) -> Spoken:
    """The digits `text` says and where it pauses, or TextError naming the first thing
    that cannot be spoken (or saying it is empty or too long)."""
    digits: list[int] = []
    pauses: set[int] = set()
    separated = False
    i = 0
    while i < len(text):
        char = text[i]
        if char in SEPARATORS:
            separated, i = True, i + 1
            continue
        if "0" <= char <= "9":
            value, end = int(char), i + 1
        elif char.isascii() and char.isalpha():
            end = _word_end(text, i)
            word = text[i:end]
            if word.lower() not in WORDS:
                raise _refuse(f"the word {word!r}", i)
            value = WORDS[word.lower()]
        else:
            raise _refuse(f"the character {char!r}", i)
        if separated and digits:
            pauses.add(len(digits) - 1)
        digits.append(value)
        separated, i = False, end
        if len(digits) > max_digits:
            raise TextError(f"the input says more than {max_digits} digits")
    if not digits:
        raise TextError("the input says no digit: give digits or digit words")
    return Spoken(digits, frozenset(pauses))
