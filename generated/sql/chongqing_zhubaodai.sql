-- NOT IN THIS QUERY: limit risk_fund_floor (book-level; evaluated by `policylang run --book`)
-- NOT IN THIS QUERY: limit risk_fund_ceiling (book-level; evaluated by `policylang run --book`)
WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "in_zone" IS NULL
      THEN ERROR('E602: cases column `in_zone`: no value, and the field (bool) has no default')
      ELSE "in_zone"
    END AS "__pl_in_in_zone",
    CASE
      WHEN "sme" IS NULL
      THEN ERROR('E602: cases column `sme`: no value, and the field (bool) has no default')
      ELSE "sme"
    END AS "__pl_in_sme",
    CASE
      WHEN "high_tech" IS NULL
      THEN ERROR('E602: cases column `high_tech`: no value, and the field (bool) has no default')
      ELSE "high_tech"
    END AS "__pl_in_high_tech",
    CASE
      WHEN "tech_listed" IS NULL
      THEN ERROR(
        'E602: cases column `tech_listed`: no value, and the field (bool) has no default'
      )
      ELSE "tech_listed"
    END AS "__pl_in_tech_listed",
    CASE
      WHEN "owns_ip" IS NULL
      THEN ERROR('E602: cases column `owns_ip`: no value, and the field (bool) has no default')
      ELSE "owns_ip"
    END AS "__pl_in_owns_ip",
    CASE
      WHEN "revenue_last_year" IS NULL
      THEN ERROR(
        'E602: cases column `revenue_last_year`: no value, and the field (money) has no default'
      )
      ELSE CAST("revenue_last_year" AS DECIMAL(38, 10))
    END AS "__pl_in_revenue_last_year",
    COALESCE("working_capital", TRUE) AS "__pl_in_working_capital",
    CASE
      WHEN NOT "kind" IN ('new_loan', 'increase', 'renewal')
      THEN ERROR(
        'E604: cases column `kind`: a value that is not a member of enum `application` (members: new_loan, increase, renewal)'
      )
      ELSE COALESCE("kind", 'new_loan')
    END AS "__pl_in_kind",
    CAST(COALESCE("previous_amount", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_previous_amount",
    CASE
      WHEN "loan_amount" IS NULL
      THEN ERROR(
        'E602: cases column `loan_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("loan_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_loan_amount",
    COALESCE("above_normal_approved", FALSE) AS "__pl_in_above_normal_approved",
    CASE
      WHEN "term" IS NULL
      THEN ERROR('E602: cases column `term`: no value, and the field (duration) has no default')
      ELSE "term"
    END AS "__pl_in_term",
    CASE
      WHEN "interest_rate" IS NULL
      THEN ERROR(
        'E602: cases column `interest_rate`: no value, and the field (percent) has no default'
      )
      ELSE CAST("interest_rate" AS DECIMAL(38, 10))
    END AS "__pl_in_interest_rate",
    CAST(COALESCE("loan_date", CAST('2021-03-01' AS DATE)) AS DATE) AS "__pl_in_loan_date",
    COALESCE("bank_notice_delay", INTERVAL '0' DAY) AS "__pl_in_bank_notice_delay",
    CAST(COALESCE("overdue_amount", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_overdue_amount",
    CAST(COALESCE("pool_balance", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_pool_balance",
    CAST(COALESCE("risk_fund_balance", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_risk_fund_balance",
    COALESCE("compensation_delay", INTERVAL '0' DAY) AS "__pl_in_compensation_delay",
    CAST(COALESCE("recovered_amount", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_recovered_amount",
    CAST(COALESCE("recovery_costs", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_recovery_costs",
    CAST(COALESCE("bank_loss", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_bank_loss",
    CAST(COALESCE("risk_fund_paid", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_risk_fund_paid",
    CAST(COALESCE("outstanding_balance", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_outstanding_balance",
    CAST(0 AS DECIMAL(38, 10)) AS "__pl_let_refundable_deposit",
    CAST(10000000 AS DECIMAL(38, 10)) AS "__pl_limit_maximum_cap__bound",
    INTERVAL '12' MONTH AS "__pl_limit_term_cap__bound",
    CAST(ROUND(CAST(0.0435 AS DECIMAL(38, 10)) * CAST(1.2 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_limit_rate_cap__bound",
    INTERVAL '5' DAY AS "__pl_limit_notice_deadline__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    CASE
      WHEN (
        "__pl_in_kind" = 'new_loan'
      )
      THEN "__pl_in_loan_amount"
      ELSE CASE
        WHEN (
          "__pl_in_kind" = 'increase'
        )
        THEN GREATEST(
          (
            "__pl_in_loan_amount" - "__pl_in_previous_amount"
          ),
          CAST(0 AS DECIMAL(38, 10))
        )
        ELSE CAST(0 AS DECIMAL(38, 10))
      END
    END AS "__pl_let_deposit_base",
    CASE
      WHEN "__pl_in_overdue_amount" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of overdue is negative')
      ELSE CAST(ROUND("__pl_in_overdue_amount", 2) AS DECIMAL(38, 10))
    END AS "__pl_overdue__amount",
    GREATEST(
      (
        "__pl_in_recovered_amount" - "__pl_in_recovery_costs"
      ),
      CAST(0 AS DECIMAL(38, 10))
    ) AS "__pl_recovery__given",
    CASE WHEN NOT (
      "__pl_in_above_normal_approved"
    ) THEN "__pl_in_loan_amount" END AS "__pl_limit_normal_cap__value",
    CASE
      WHEN NOT (
        "__pl_in_above_normal_approved"
      )
      THEN CAST(5000000 AS DECIMAL(38, 10))
    END AS "__pl_limit_normal_cap__bound",
    "__pl_in_loan_amount" AS "__pl_limit_maximum_cap__value",
    "__pl_in_term" AS "__pl_limit_term_cap__value",
    "__pl_in_interest_rate" AS "__pl_limit_rate_cap__value",
    "__pl_in_bank_notice_delay" AS "__pl_limit_notice_deadline__value",
    CASE
      WHEN (
        (
          "__pl_in_overdue_amount" > CAST(0 AS DECIMAL(38, 10))
        )
        AND (
          "__pl_in_pool_balance" >= "__pl_in_overdue_amount"
        )
      )
      THEN "__pl_in_compensation_delay"
    END AS "__pl_limit_compensation_deadline__value",
    CASE
      WHEN (
        (
          "__pl_in_overdue_amount" > CAST(0 AS DECIMAL(38, 10))
        )
        AND (
          "__pl_in_pool_balance" >= "__pl_in_overdue_amount"
        )
      )
      THEN INTERVAL '15' DAY
    END AS "__pl_limit_compensation_deadline__bound"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CAST(ROUND(
      CAST("__pl_let_deposit_base" AS DECIMAL(38, 10)) * CAST(0.025 AS DECIMAL(4, 3)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_let_guarantee_deposit",
    LEAST(
      "__pl_overdue__amount",
      GREATEST("__pl_in_pool_balance", CAST(0 AS DECIMAL(38, 10)))
    ) AS "__pl_overdue__s0_take",
    CASE
      WHEN "__pl_recovery__given" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of recovery is negative')
      ELSE CAST(ROUND("__pl_recovery__given", 2) AS DECIMAL(38, 10))
    END AS "__pl_recovery__amount"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    "__pl_overdue__amount" - "__pl_overdue__s0_take" AS "__pl_overdue__s0_rest",
    CAST("__pl_overdue__s0_take" AS DECIMAL(38, 10)) AS "__pl_overdue__exact__pool",
    LEAST("__pl_recovery__amount", GREATEST("__pl_in_bank_loss", CAST(0 AS DECIMAL(38, 10)))) AS "__pl_recovery__s0_take"
  FROM __pl_2
), __pl_4 AS (
  SELECT
    *,
    LEAST(
      CAST(ROUND(CAST("__pl_overdue__s0_rest" AS DECIMAL(38, 10)) * CAST(0.5 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)),
      GREATEST("__pl_in_risk_fund_balance", CAST(0 AS DECIMAL(38, 10)))
    ) AS "__pl_overdue__s1_0",
    CAST(ROUND(CAST("__pl_overdue__s0_rest" AS DECIMAL(38, 10)) * CAST(0.5 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_overdue__s1_1",
    CAST(TRUNC("__pl_overdue__exact__pool", 2) AS DECIMAL(18, 2)) AS "__pl_overdue__t_0",
    "__pl_recovery__amount" - "__pl_recovery__s0_take" AS "__pl_recovery__s0_rest",
    CAST("__pl_recovery__s0_take" AS DECIMAL(38, 10)) AS "__pl_recovery__exact__bank"
  FROM __pl_3
), __pl_5 AS (
  SELECT
    *,
    "__pl_overdue__s0_rest" - (
      "__pl_overdue__s1_0" + "__pl_overdue__s1_1"
    ) AS "__pl_overdue__s1_rest",
    CAST("__pl_overdue__s1_0" AS DECIMAL(38, 10)) AS "__pl_overdue__exact__risk_fund",
    CAST("__pl_overdue__s1_1" AS DECIMAL(38, 10)) AS "__pl_overdue__exact__bank",
    "__pl_overdue__exact__pool" - "__pl_overdue__t_0" AS "__pl_overdue__r_0",
    LEAST(
      "__pl_recovery__s0_rest",
      GREATEST("__pl_in_risk_fund_paid", CAST(0 AS DECIMAL(38, 10)))
    ) AS "__pl_recovery__s1_take",
    CAST(TRUNC("__pl_recovery__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_recovery__t_0"
  FROM __pl_4
), __pl_6 AS (
  SELECT
    *,
    CAST("__pl_overdue__s1_rest" AS DECIMAL(38, 10)) AS "__pl_overdue__exact__escalated",
    CAST(TRUNC("__pl_overdue__exact__risk_fund", 2) AS DECIMAL(18, 2)) AS "__pl_overdue__t_1",
    CAST(TRUNC("__pl_overdue__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_overdue__t_2",
    "__pl_recovery__s0_rest" - "__pl_recovery__s1_take" AS "__pl_recovery__s1_rest",
    CAST("__pl_recovery__s1_take" AS DECIMAL(38, 10)) AS "__pl_recovery__exact__risk_fund",
    "__pl_recovery__exact__bank" - "__pl_recovery__t_0" AS "__pl_recovery__r_0"
  FROM __pl_5
), __pl_7 AS (
  SELECT
    *,
    CAST(TRUNC("__pl_overdue__exact__escalated", 2) AS DECIMAL(18, 2)) AS "__pl_overdue__t_3",
    "__pl_overdue__exact__risk_fund" - "__pl_overdue__t_1" AS "__pl_overdue__r_1",
    "__pl_overdue__exact__bank" - "__pl_overdue__t_2" AS "__pl_overdue__r_2",
    CAST("__pl_recovery__s1_rest" AS DECIMAL(38, 10)) AS "__pl_recovery__exact__unallocated",
    CAST(TRUNC("__pl_recovery__exact__risk_fund", 2) AS DECIMAL(18, 2)) AS "__pl_recovery__t_1"
  FROM __pl_6
), __pl_8 AS (
  SELECT
    *,
    "__pl_overdue__exact__escalated" - "__pl_overdue__t_3" AS "__pl_overdue__r_3",
    CAST((
      "__pl_overdue__amount" - (
        "__pl_overdue__t_0" + "__pl_overdue__t_1" + "__pl_overdue__t_2" + "__pl_overdue__t_3"
      )
    ) * 100 AS INT) AS "__pl_overdue__missing",
    CAST(TRUNC("__pl_recovery__exact__unallocated", 2) AS DECIMAL(18, 2)) AS "__pl_recovery__t_2",
    "__pl_recovery__exact__risk_fund" - "__pl_recovery__t_1" AS "__pl_recovery__r_1"
  FROM __pl_7
), __pl_9 AS (
  SELECT
    *,
    "__pl_overdue__t_0" + CASE
      WHEN (
        CAST("__pl_overdue__r_1" > "__pl_overdue__r_0" AS INT) + CAST("__pl_overdue__r_2" > "__pl_overdue__r_0" AS INT) + CAST("__pl_overdue__r_3" > "__pl_overdue__r_0" AS INT)
      ) < "__pl_overdue__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_overdue__part__pool",
    "__pl_overdue__t_1" + CASE
      WHEN (
        CAST("__pl_overdue__r_0" >= "__pl_overdue__r_1" AS INT) + CAST("__pl_overdue__r_2" > "__pl_overdue__r_1" AS INT) + CAST("__pl_overdue__r_3" > "__pl_overdue__r_1" AS INT)
      ) < "__pl_overdue__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_overdue__part__risk_fund",
    "__pl_overdue__t_2" + CASE
      WHEN (
        CAST("__pl_overdue__r_0" >= "__pl_overdue__r_2" AS INT) + CAST("__pl_overdue__r_1" >= "__pl_overdue__r_2" AS INT) + CAST("__pl_overdue__r_3" > "__pl_overdue__r_2" AS INT)
      ) < "__pl_overdue__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_overdue__part__bank",
    "__pl_overdue__t_3" + CASE
      WHEN (
        CAST("__pl_overdue__r_0" >= "__pl_overdue__r_3" AS INT) + CAST("__pl_overdue__r_1" >= "__pl_overdue__r_3" AS INT) + CAST("__pl_overdue__r_2" >= "__pl_overdue__r_3" AS INT)
      ) < "__pl_overdue__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_overdue__part__escalated",
    "__pl_recovery__exact__unallocated" - "__pl_recovery__t_2" AS "__pl_recovery__r_2",
    CAST((
      "__pl_recovery__amount" - (
        "__pl_recovery__t_0" + "__pl_recovery__t_1" + "__pl_recovery__t_2"
      )
    ) * 100 AS INT) AS "__pl_recovery__missing"
  FROM __pl_8
), __pl_10 AS (
  SELECT
    *,
    "__pl_recovery__t_0" + CASE
      WHEN (
        CAST("__pl_recovery__r_1" > "__pl_recovery__r_0" AS INT) + CAST("__pl_recovery__r_2" > "__pl_recovery__r_0" AS INT)
      ) < "__pl_recovery__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_recovery__part__bank",
    "__pl_recovery__t_1" + CASE
      WHEN (
        CAST("__pl_recovery__r_0" >= "__pl_recovery__r_1" AS INT) + CAST("__pl_recovery__r_2" > "__pl_recovery__r_1" AS INT)
      ) < "__pl_recovery__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_recovery__part__risk_fund",
    "__pl_recovery__t_2" + CASE
      WHEN (
        CAST("__pl_recovery__r_0" >= "__pl_recovery__r_2" AS INT) + CAST("__pl_recovery__r_1" >= "__pl_recovery__r_2" AS INT)
      ) < "__pl_recovery__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_recovery__part__unallocated"
  FROM __pl_9
), __pl_checks AS (
  SELECT
    *,
    "__pl_in_in_zone" AS "rule__in_zone_rule",
    "__pl_in_sme" AS "rule__sme_rule",
    (
      "__pl_in_high_tech"
      OR (
        (
          "__pl_in_tech_listed" AND "__pl_in_owns_ip"
        )
        AND (
          "__pl_in_revenue_last_year" >= CAST(5000000 AS DECIMAL(38, 10))
        )
      )
    ) AS "rule__tech_rule",
    "__pl_in_working_capital" AS "rule__purpose_rule",
    CASE
      WHEN (
        "__pl_in_kind" = 'increase'
      )
      THEN (
        "__pl_in_loan_amount" > "__pl_in_previous_amount"
      )
      ELSE TRUE
    END AS "rule__increase_rule",
    CASE
      WHEN NOT (
        "__pl_in_above_normal_approved"
      )
      THEN (
        "__pl_limit_normal_cap__value" <= "__pl_limit_normal_cap__bound"
      )
      ELSE TRUE
    END AS "rule__normal_cap",
    CAST("__pl_limit_normal_cap__value" AS DECIMAL(18, 2)) AS "rule__normal_cap__value",
    CAST("__pl_limit_normal_cap__bound" AS DECIMAL(18, 2)) AS "rule__normal_cap__bound",
    (
      "__pl_limit_maximum_cap__value" <= "__pl_limit_maximum_cap__bound"
    ) AS "rule__maximum_cap",
    CAST("__pl_limit_maximum_cap__value" AS DECIMAL(18, 2)) AS "rule__maximum_cap__value",
    CAST("__pl_limit_maximum_cap__bound" AS DECIMAL(18, 2)) AS "rule__maximum_cap__bound",
    CASE
      WHEN (
        DATEPART('year', "__pl_limit_term_cap__value") * 12 + DATEPART('month', "__pl_limit_term_cap__value") <> 0
        AND DATEPART('day', "__pl_limit_term_cap__bound") <> 0
      )
      OR (
        DATEPART('day', "__pl_limit_term_cap__value") <> 0
        AND DATEPART('year', "__pl_limit_term_cap__bound") * 12 + DATEPART('month', "__pl_limit_term_cap__bound") <> 0
      )
      THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
      ELSE "__pl_limit_term_cap__value" <= "__pl_limit_term_cap__bound"
    END AS "rule__term_cap",
    "__pl_limit_term_cap__value" AS "rule__term_cap__value",
    "__pl_limit_term_cap__bound" AS "rule__term_cap__bound",
    (
      "__pl_limit_rate_cap__value" <= "__pl_limit_rate_cap__bound"
    ) AS "rule__rate_cap",
    "__pl_limit_rate_cap__value" AS "rule__rate_cap__value",
    "__pl_limit_rate_cap__bound" AS "rule__rate_cap__bound",
    CASE
      WHEN (
        DATEPART('year', "__pl_limit_notice_deadline__value") * 12 + DATEPART('month', "__pl_limit_notice_deadline__value") <> 0
        AND DATEPART('day', "__pl_limit_notice_deadline__bound") <> 0
      )
      OR (
        DATEPART('day', "__pl_limit_notice_deadline__value") <> 0
        AND DATEPART('year', "__pl_limit_notice_deadline__bound") * 12 + DATEPART('month', "__pl_limit_notice_deadline__bound") <> 0
      )
      THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
      ELSE "__pl_limit_notice_deadline__value" <= "__pl_limit_notice_deadline__bound"
    END AS "rule__notice_deadline",
    "__pl_limit_notice_deadline__value" AS "rule__notice_deadline__value",
    "__pl_limit_notice_deadline__bound" AS "rule__notice_deadline__bound",
    CASE
      WHEN (
        (
          "__pl_in_overdue_amount" > CAST(0 AS DECIMAL(38, 10))
        )
        AND (
          "__pl_in_pool_balance" >= "__pl_in_overdue_amount"
        )
      )
      THEN CASE
        WHEN (
          DATEPART('year', "__pl_limit_compensation_deadline__value") * 12 + DATEPART('month', "__pl_limit_compensation_deadline__value") <> 0
          AND DATEPART('day', "__pl_limit_compensation_deadline__bound") <> 0
        )
        OR (
          DATEPART('day', "__pl_limit_compensation_deadline__value") <> 0
          AND DATEPART('year', "__pl_limit_compensation_deadline__bound") * 12 + DATEPART('month', "__pl_limit_compensation_deadline__bound") <> 0
        )
        THEN ERROR('E611: cannot compare days and months: days are not convertible to months')
        ELSE "__pl_limit_compensation_deadline__value" <= "__pl_limit_compensation_deadline__bound"
      END
      ELSE TRUE
    END AS "rule__compensation_deadline",
    "__pl_limit_compensation_deadline__value" AS "rule__compensation_deadline__value",
    "__pl_limit_compensation_deadline__bound" AS "rule__compensation_deadline__bound",
    CAST("__pl_let_deposit_base" AS DECIMAL(18, 2)) AS "deposit_base",
    CAST("__pl_let_guarantee_deposit" AS DECIMAL(18, 2)) AS "guarantee_deposit",
    CAST("__pl_let_refundable_deposit" AS DECIMAL(18, 2)) AS "refundable_deposit",
    CAST("__pl_overdue__part__pool" AS DECIMAL(18, 2)) AS "overdue__pool",
    CAST("__pl_overdue__part__risk_fund" AS DECIMAL(18, 2)) AS "overdue__risk_fund",
    CAST("__pl_overdue__part__bank" AS DECIMAL(18, 2)) AS "overdue__bank",
    CAST("__pl_overdue__part__escalated" AS DECIMAL(18, 2)) AS "overdue__escalated",
    CAST("__pl_recovery__part__bank" AS DECIMAL(18, 2)) AS "recovery__bank",
    CAST("__pl_recovery__part__risk_fund" AS DECIMAL(18, 2)) AS "recovery__risk_fund",
    CAST("__pl_recovery__part__unallocated" AS DECIMAL(18, 2)) AS "recovery__unallocated"
  FROM __pl_10
)
SELECT
  *
  EXCLUDE ("__pl_in_in_zone", "__pl_in_sme", "__pl_in_high_tech", "__pl_in_tech_listed", "__pl_in_owns_ip", "__pl_in_revenue_last_year", "__pl_in_working_capital", "__pl_in_kind", "__pl_in_previous_amount", "__pl_in_loan_amount", "__pl_in_above_normal_approved", "__pl_in_term", "__pl_in_interest_rate", "__pl_in_loan_date", "__pl_in_bank_notice_delay", "__pl_in_overdue_amount", "__pl_in_pool_balance", "__pl_in_risk_fund_balance", "__pl_in_compensation_delay", "__pl_in_recovered_amount", "__pl_in_recovery_costs", "__pl_in_bank_loss", "__pl_in_risk_fund_paid", "__pl_in_outstanding_balance", "__pl_let_deposit_base", "__pl_let_guarantee_deposit", "__pl_let_refundable_deposit", "__pl_overdue__amount", "__pl_overdue__s0_take", "__pl_overdue__s0_rest", "__pl_overdue__s1_0", "__pl_overdue__s1_1", "__pl_overdue__s1_rest", "__pl_overdue__exact__pool", "__pl_overdue__exact__risk_fund", "__pl_overdue__exact__bank", "__pl_overdue__exact__escalated", "__pl_overdue__t_0", "__pl_overdue__t_1", "__pl_overdue__t_2", "__pl_overdue__t_3", "__pl_overdue__r_0", "__pl_overdue__r_1", "__pl_overdue__r_2", "__pl_overdue__r_3", "__pl_overdue__missing", "__pl_overdue__part__pool", "__pl_overdue__part__risk_fund", "__pl_overdue__part__bank", "__pl_overdue__part__escalated", "__pl_recovery__given", "__pl_recovery__amount", "__pl_recovery__s0_take", "__pl_recovery__s0_rest", "__pl_recovery__s1_take", "__pl_recovery__s1_rest", "__pl_recovery__exact__bank", "__pl_recovery__exact__risk_fund", "__pl_recovery__exact__unallocated", "__pl_recovery__t_0", "__pl_recovery__t_1", "__pl_recovery__t_2", "__pl_recovery__r_0", "__pl_recovery__r_1", "__pl_recovery__r_2", "__pl_recovery__missing", "__pl_recovery__part__bank", "__pl_recovery__part__risk_fund", "__pl_recovery__part__unallocated", "__pl_limit_normal_cap__value", "__pl_limit_normal_cap__bound", "__pl_limit_maximum_cap__value", "__pl_limit_maximum_cap__bound", "__pl_limit_term_cap__value", "__pl_limit_term_cap__bound", "__pl_limit_rate_cap__value", "__pl_limit_rate_cap__bound", "__pl_limit_notice_deadline__value", "__pl_limit_notice_deadline__bound", "__pl_limit_compensation_deadline__value", "__pl_limit_compensation_deadline__bound"),
  "rule__in_zone_rule"
  AND "rule__sme_rule"
  AND "rule__tech_rule"
  AND "rule__purpose_rule"
  AND "rule__increase_rule"
  AND "rule__normal_cap"
  AND "rule__maximum_cap"
  AND "rule__term_cap"
  AND "rule__rate_cap"
  AND "rule__notice_deadline"
  AND "rule__compensation_deadline" AS "eligible"
FROM __pl_checks;
