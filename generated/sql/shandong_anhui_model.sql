WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "outstanding_balance" IS NULL
      THEN ERROR(
        'E602: cases column `outstanding_balance`: no value, and the field (money) has no default'
      )
      ELSE CAST("outstanding_balance" AS DECIMAL(38, 10))
    END AS "__pl_in_outstanding_balance",
    CAST(20000000 AS DECIMAL(38, 10)) AS "__pl_limit_balance_cap__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    "__pl_in_outstanding_balance" AS "__pl_limit_balance_cap__value"
  FROM __pl_0
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_limit_balance_cap__value" <= "__pl_limit_balance_cap__bound"
    ) AS "rule__balance_cap",
    CAST("__pl_limit_balance_cap__value" AS DECIMAL(18, 2)) AS "rule__balance_cap__value",
    CAST("__pl_limit_balance_cap__bound" AS DECIMAL(18, 2)) AS "rule__balance_cap__bound"
  FROM __pl_1
)
SELECT
  *
  EXCLUDE ("__pl_in_outstanding_balance", "__pl_limit_balance_cap__value", "__pl_limit_balance_cap__bound"),
  "rule__balance_cap" AS "eligible"
FROM __pl_checks;
