"""The LALR grammar (lark) of `$filter` and `$orderby`.

Precedence, loosest first: `or`, `and`, `not`, comparisons (`eq ne gt ge lt le`, `in`), `add sub`,
`mul div mod`, unary minus, then literals, property paths, function calls and parentheses.
`not` binds looser than a comparison, so `not name eq 'x' and b` reads `(not (name eq 'x')) and b`.
Keywords are lower case (as in OData); `asc`/`desc` in `$orderby` in any case.
"""

from __future__ import annotations

import lark

GRAMMAR = r"""
start_filter: expr
start_orderby: order_item ("," order_item)*
order_item: path (ASC | DESC)?

?expr: or_expr
?or_expr: and_expr
        | or_expr OR and_expr        -> logical
?and_expr: not_expr
         | and_expr AND not_expr     -> logical
?not_expr: cmp_expr
         | NOT not_expr              -> negation
?cmp_expr: add_expr
         | add_expr CMP add_expr     -> comparison
         | add_expr IN "(" expr_list ")" -> membership
?add_expr: mul_expr
         | add_expr ADDOP mul_expr   -> arithmetic
?mul_expr: unary
         | mul_expr MULOP unary      -> arithmetic
?unary: primary
      | MINUS unary                  -> minus
?primary: literal
        | path
        | call
        | "(" expr ")"
call: NAME "(" expr_list? ")"
expr_list: expr ("," expr)*
path: NAME ("/" NAME)*

literal: STRING | DECIMAL | INT | TRUE | FALSE | NULL | DATETIME | DATE | TIME | DURATION | GEO

OR.2: /or\b/
AND.2: /and\b/
NOT.2: /not\b/
IN.2: /in\b/
CMP.2: /(eq|ne|gt|ge|lt|le)\b/
ADDOP.2: /(add|sub)\b/
MULOP.2: /(mul|div|mod)\b/
TRUE.2: /true\b/
FALSE.2: /false\b/
NULL.2: /null\b/
ASC.2: /asc\b/i
DESC.2: /desc\b/i
MINUS: "-"

DATETIME.5: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?/
DATE.4: /\d{4}-\d{2}-\d{2}/
TIME.4: /\d{2}:\d{2}(:\d{2}(\.\d+)?)?/
DECIMAL.3: /\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+/
INT: /\d+/
STRING: /'([^']|'')*'/
DURATION.3: /duration'[^']*'/i
GEO.3: /(geography|geometry)'[^']*'/i
NAME: /@?[A-Za-z_][A-Za-z0-9_.]*/

%import common.WS
%ignore WS
"""

PARSER = lark.Lark(
    GRAMMAR,
    parser="lalr",
    start=["start_filter", "start_orderby"],
    propagate_positions=True,
    maybe_placeholders=False,
)

# what a user should read for a terminal the parser expected
EXPECTED_NAMES: dict[str, str] = {
    "NAME": "a property or function name",
    "STRING": "a 'string'",
    "INT": "a number",
    "DECIMAL": "a number",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "DATETIME": "a date-time",
    "DATE": "a date",
    "TIME": "a time",
    "DURATION": "duration'…'",
    "GEO": "geography'…'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "SLASH": "'/'",
    "MINUS": "'-'",
    "CMP": "a comparison (eq, ne, gt, ge, lt, le)",
    "IN": "in",
    "AND": "and",
    "OR": "or",
    "NOT": "not",
    "ADDOP": "add or sub",
    "MULOP": "mul, div or mod",
    "ASC": "asc",
    "DESC": "desc",
    "$END": "the end of the text",
}
_VALUE_START = {"NAME", "STRING", "INT", "DECIMAL", "DATETIME", "DATE", "TIME", "DURATION", "GEO", "LPAR"}


def describe_expected(expected: set[str] | frozenset[str]) -> str:
    """`expected a value …` for the terminals lark could have accepted."""
    names = set(expected)
    parts: list[str] = []
    if len(names & _VALUE_START) >= 4:
        parts.append("a value (a property, a literal, a function call or '(')")
        names -= _VALUE_START | {"TRUE", "FALSE", "NULL", "MINUS", "NOT"}
    order = list(EXPECTED_NAMES)
    for name in sorted(names, key=lambda n: order.index(n) if n in order else len(order)):
        parts.append(EXPECTED_NAMES.get(name, name.lower()))
    return ", ".join(dict.fromkeys(parts)) or "something else"
