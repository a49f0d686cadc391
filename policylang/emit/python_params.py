"""The Python backend's `Params` properties: what a policy computes from its params alone.

A mixin of the module emitter (python.py). An expression that reads params and constants
but no input (a rate cap's `benchmark_rate * 1.2`, a let of params only) becomes a
`functools.cached_property` of the generated `Params` model, read where the expression
stood: computed once per params object, at the same point of the evaluation (a guard or a
short-circuit still skips it), and, when it raises, raised there and not kept.
"""

from __future__ import annotations

from policylang import ir

_RETURNS = {ir.Kind.MONEY: "Decimal", ir.Kind.PERCENT: "Decimal", ir.Kind.NUMBER: "Decimal",
            ir.Kind.DURATION: "Duration", ir.Kind.DATE: "datetime.date", ir.Kind.BOOL: "bool"}


def returns(type_: ir.Type) -> str:
    """The annotation of a value of `type_` in the generated module."""
    return "enum.Enum" if type_.kind is ir.Kind.ENUM else _RETURNS[type_.kind]


class ParamsOnce:
    """`visit` that renders a param-only expression as the `Params` property computing
    it; `_visit_at` and `_computed` name the property after its use."""

    policy: ir.Policy
    lets: dict[str, str]  # the let methods' names
    computed: dict[str, dict]  # property body → its name, body, return type and doc
    in_params: bool  # rendering the body of one of those properties
    site: list  # the method being rendered, and its properties so far
    param_only_lets: dict[str, bool]

    def _param_only(self, node: ir.Expr) -> bool:
        """Whether `node` is worth computing once per `Params`: it reads params (through
        lets too) and constants but no input or allocation, and is more than a bare param
        or constant, or its negation (a let that is one of those is read as the let)."""
        return not self._trivial(node) and self._reads_params_only(node)

    def _trivial(self, node: ir.Expr) -> bool:
        match node:
            case ir.ParamRef() | ir.Const():
                return True
            case ir.Not(operand=operand) | ir.Neg(operand=operand):
                return self._trivial(operand)
            case ir.LetRef(name=name):
                return self._trivial(self.policy.let(name).expr)
        return False

    def _reads_params_only(self, node: ir.Expr) -> bool:
        for inner in ir.walk(node):
            match inner:
                case ir.InputRef() | ir.PartRef():
                    return False
                case ir.LetRef(name=name) if name not in self.param_only_lets:
                    let = self.policy.let(name)
                    self.param_only_lets[name] = self._reads_params_only(let.expr)
                    if not self.param_only_lets[name]:
                        return False
                case ir.LetRef(name=name) if not self.param_only_lets[name]:
                    return False
        return True

    def _visit_at(self, node: ir.Expr, role: str) -> str:
        """`node` rendered where the method being rendered uses it as `role` (its value,
        its bound): a param-only one is the `Params` property named for that use."""
        if self._param_only(node):
            return f"self.params.{self._computed(node, role)}"
        return self.visit(node)

    def _computed(self, node: ir.Expr, role: str | None = None) -> str:
        """The `Params` property computing the param-only `node`, made on first use. It is
        read where the expression stood, so it is computed at the same point of the
        evaluation (a short-circuit or a guard still skips it) and a fault in it is
        raised there; `cached_property` keeps no value when one is raised. Named after
        the let, or the method's use of it (`role`) or its place among the method's."""
        let = self.policy.let(node.name) if isinstance(node, ir.LetRef) else None
        if let is not None:
            node = let.expr
        outside, self.in_params = self.in_params, True
        try:
            body = super().visit(node)
        finally:
            self.in_params = outside
        if body not in self.computed:
            if let is not None:
                name, doc = self.lets[let.name], f"let {let.name}"
            else:
                method = self.site[0]
                if role is None:
                    self.site[1] += 1
                    role = str(self.site[1])
                name = f"{method}_{role}"
                doc = f"{'Part' if role.isdigit() else 'The'} {role} of `{method}`"
            self._property(body, name, returns(node.type),
                           f"{doc}, computed from the params alone.")
        return self.computed[body]["name"]

    def _property(self, body: str, name: str, returns: str, doc: str) -> str:
        """The `Params` property returning `body` (one per body), made as `name` (or a
        name not yet given) when there is none."""
        if body not in self.computed:
            while name in self.computed_names.given:
                name += "_"
            self.computed[body] = {"name": self.computed_names[name], "body": body,
                                   "returns": returns, "doc": [doc]}
        return self.computed[body]["name"]

    def visit(self, node: ir.Expr) -> str:
        if not self.in_params and self._param_only(node):
            return f"self.params.{self._computed(node)}"
        return super().visit(node)
