-- NOT IN THIS QUERY: limit average_fee (book-level; evaluated by `policylang run --book`)
WITH __pl_0 AS (
  SELECT
    *,
    CASE
      WHEN "guarantee_amount" IS NULL
      THEN ERROR(
        'E602: cases column `guarantee_amount`: no value, and the field (money) has no default'
      )
      ELSE CAST("guarantee_amount" AS DECIMAL(38, 10))
    END AS "__pl_in_guarantee_amount",
    CAST(COALESCE("defaulted", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_defaulted",
    CAST(COALESCE("guarantee_fee", CAST(0 AS DECIMAL(38, 10))) AS DECIMAL(38, 10)) AS "__pl_in_guarantee_fee",
    CAST(COALESCE("guarantee_date", CAST('2017-06-01' AS DATE)) AS DATE) AS "__pl_in_guarantee_date",
    CASE
      WHEN CAST(1000000 AS DECIMAL(38, 10)) <= CAST(0 AS DECIMAL(38, 10))
      THEN ERROR('E611: round() needs a positive step')
      ELSE CAST(CAST(SIGN(
        CAST(CAST(CAST(SIGN(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
          (
            ABS(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * CAST(40 AS INT128) + CAST(3 AS INT128)
          ) // CAST(6 AS INT128)
        ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
      ) * (
        ABS(
          CAST(CAST(CAST(SIGN(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
            (
              ABS(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * CAST(40 AS INT128) + CAST(3 AS INT128)
            ) // CAST(6 AS INT128)
          ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) // CAST(CAST(1000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128) + CASE
          WHEN CAST(2 AS INT128) * (ABS(
            CAST(CAST(CAST(SIGN(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
              (
                ABS(CAST(CAST(100000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * CAST(40 AS INT128) + CAST(3 AS INT128)
              ) // CAST(6 AS INT128)
            ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
          ) % CAST(CAST(1000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) >= CAST(CAST(1000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)
          THEN CAST(1 AS INT128)
          ELSE CAST(0 AS INT128)
        END
      ) AS DECIMAL(38, 10)) * CAST(1000000 AS DECIMAL(38, 10)) AS DECIMAL(28, 10))
    END AS "__pl_let_compensated_loans",
    CAST(CAST(SIGN(
      CAST(CAST(CAST(SIGN(CAST(CAST(223000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
        (
          ABS(CAST(CAST(223000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * CAST(40 AS INT128) + CAST(3 AS INT128)
        ) // CAST(6 AS INT128)
      ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST(CAST(SIGN(CAST(CAST(223000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
            (
              ABS(CAST(CAST(223000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * CAST(40 AS INT128) + CAST(3 AS INT128)
            ) // CAST(6 AS INT128)
          ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) * CAST(40 AS INT128) + CAST(1 AS INT128)
      ) // CAST(2 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_let_leverage_exact",
    CAST(5000000 AS DECIMAL(38, 10)) AS "__pl_limit_household_cap__bound"
  FROM cases
), __pl_1 AS (
  SELECT
    *,
    CAST(ROUND(CAST("__pl_in_defaulted" AS DECIMAL(38, 10)) * CAST(0.8 AS DECIMAL(2, 1)), 10) AS DECIMAL(28, 10)) AS "__pl_let_guarantor_advance",
    CAST(ROUND(CAST("__pl_in_defaulted" AS DECIMAL(38, 10)) * CAST(0.25 AS DECIMAL(3, 2)), 10) AS DECIMAL(28, 10)) AS "__pl_let_reguarantee_claim",
    CAST(ROUND(CAST("__pl_in_defaulted" AS DECIMAL(38, 10)) * CAST(0.15 AS DECIMAL(3, 2)), 10) AS DECIMAL(28, 10)) AS "__pl_let_fund_claim",
    CAST(CAST(SIGN(
      CAST(CAST("__pl_let_compensated_loans" AS DECIMAL(38, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST("__pl_let_compensated_loans" AS DECIMAL(38, 10)) * 10000000000 AS INT128)
        ) * CAST(40 AS INT128) + CAST(1 AS INT128)
      ) // CAST(2 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_let_loans_landed",
    CASE
      WHEN CAST(1000000000 AS DECIMAL(38, 10)) <= CAST(0 AS DECIMAL(38, 10))
      THEN ERROR('E611: round() needs a positive step')
      ELSE CAST(CAST(SIGN(CAST(CAST("__pl_let_leverage_exact" AS DECIMAL(38, 10)) * 10000000000 AS INT128)) * (
        ABS(CAST(CAST("__pl_let_leverage_exact" AS DECIMAL(38, 10)) * 10000000000 AS INT128)) // CAST(CAST(1000000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128) + CASE
          WHEN CAST(2 AS INT128) * (ABS(CAST(CAST("__pl_let_leverage_exact" AS DECIMAL(38, 10)) * 10000000000 AS INT128)) % CAST(CAST(1000000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)) >= CAST(CAST(1000000000 AS DECIMAL(38, 10)) * 10000000000 AS INT128)
          THEN CAST(1 AS INT128)
          ELSE CAST(0 AS INT128)
        END
      ) AS DECIMAL(38, 10)) * CAST(1000000000 AS DECIMAL(38, 10)) AS DECIMAL(28, 10))
    END AS "__pl_let_leverage",
    CASE
      WHEN "__pl_in_defaulted" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of compensation is negative')
      ELSE CAST(ROUND("__pl_in_defaulted", 2) AS DECIMAL(38, 10))
    END AS "__pl_compensation__amount",
    CASE
      WHEN "__pl_in_defaulted" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of compensation_ratio is negative')
      ELSE CAST(ROUND("__pl_in_defaulted", 2) AS DECIMAL(38, 10))
    END AS "__pl_compensation_ratio__amount",
    CASE
      WHEN "__pl_in_defaulted" <= CAST(-0.005 AS DECIMAL(38, 10))
      THEN ERROR('E611: the allocated amount of bank_guarantor is negative')
      ELSE CAST(ROUND("__pl_in_defaulted", 2) AS DECIMAL(38, 10))
    END AS "__pl_bank_guarantor__amount",
    "__pl_in_guarantee_amount" AS "__pl_limit_household_cap__value"
  FROM __pl_0
), __pl_2 AS (
  SELECT
    *,
    CASE
      WHEN ABS(
        (
          CASE
            WHEN ABS((
              "__pl_let_guarantor_advance" - "__pl_let_reguarantee_claim"
            )) >= CAST(1000000000000000000 AS DECIMAL(38, 10))
            THEN ERROR('E611: value out of range')
            ELSE (
              "__pl_let_guarantor_advance" - "__pl_let_reguarantee_claim"
            )
          END - "__pl_let_fund_claim"
        )
      ) >= CAST(1000000000000000000 AS DECIMAL(38, 10))
      THEN ERROR('E611: value out of range')
      ELSE (
        CASE
          WHEN ABS((
            "__pl_let_guarantor_advance" - "__pl_let_reguarantee_claim"
          )) >= CAST(1000000000000000000 AS DECIMAL(38, 10))
          THEN ERROR('E611: value out of range')
          ELSE (
            "__pl_let_guarantor_advance" - "__pl_let_reguarantee_claim"
          )
        END - "__pl_let_fund_claim"
      )
    END AS "__pl_let_guarantor_net",
    CAST(ROUND(
      CAST("__pl_compensation__amount" AS DECIMAL(38, 10)) * CAST(0.25 AS DECIMAL(3, 2)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_compensation__exact__reguarantee",
    CAST(ROUND(
      CAST("__pl_compensation__amount" AS DECIMAL(38, 10)) * CAST(0.2 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_compensation__exact__bank",
    CAST(ROUND(
      CAST("__pl_compensation__amount" AS DECIMAL(38, 10)) * CAST(0.4 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_compensation__exact__guarantor",
    CAST(ROUND(
      CAST("__pl_compensation__amount" AS DECIMAL(38, 10)) * CAST(0.15 AS DECIMAL(3, 2)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_compensation__exact__fund",
    CAST(CAST(SIGN(
      CAST(CAST(CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(2 AS DECIMAL(1, 0)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST(CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(2 AS DECIMAL(1, 0)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) * CAST(1 AS INT128) + CAST(5 AS INT128)
      ) // CAST(10 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_compensation_ratio__exact__bank",
    CAST(CAST(SIGN(
      CAST(CAST(CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(4 AS DECIMAL(1, 0)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST(CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(4 AS DECIMAL(1, 0)) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) * CAST(1 AS INT128) + CAST(5 AS INT128)
      ) // CAST(10 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_compensation_ratio__exact__guarantor",
    CAST(CAST(SIGN(
      CAST(CAST(ROUND(
        CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(2.5 AS DECIMAL(2, 1)),
        10
      ) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST(ROUND(
            CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(2.5 AS DECIMAL(2, 1)),
            10
          ) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) * CAST(1 AS INT128) + CAST(5 AS INT128)
      ) // CAST(10 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_compensation_ratio__exact__reguarantee",
    CAST(CAST(SIGN(
      CAST(CAST(ROUND(
        CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(1.5 AS DECIMAL(2, 1)),
        10
      ) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
    ) * (
      (
        ABS(
          CAST(CAST(ROUND(
            CAST("__pl_compensation_ratio__amount" AS DECIMAL(38, 10)) * CAST(1.5 AS DECIMAL(2, 1)),
            10
          ) AS DECIMAL(28, 10)) * 10000000000 AS INT128)
        ) * CAST(1 AS INT128) + CAST(5 AS INT128)
      ) // CAST(10 AS INT128)
    ) AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(11, 10)) AS DECIMAL(28, 10)) AS "__pl_compensation_ratio__exact__fund",
    CAST(ROUND(
      CAST("__pl_bank_guarantor__amount" AS DECIMAL(38, 10)) * CAST(0.2 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_bank_guarantor__exact__bank",
    CAST(ROUND(
      CAST("__pl_bank_guarantor__amount" AS DECIMAL(38, 10)) * CAST(0.8 AS DECIMAL(2, 1)),
      10
    ) AS DECIMAL(28, 10)) AS "__pl_bank_guarantor__exact__guarantor"
  FROM __pl_1
), __pl_3 AS (
  SELECT
    *,
    CAST(TRUNC("__pl_compensation__exact__reguarantee", 2) AS DECIMAL(18, 2)) AS "__pl_compensation__t_0",
    CAST(TRUNC("__pl_compensation__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_compensation__t_1",
    CAST(TRUNC("__pl_compensation__exact__guarantor", 2) AS DECIMAL(18, 2)) AS "__pl_compensation__t_2",
    CAST(TRUNC("__pl_compensation__exact__fund", 2) AS DECIMAL(18, 2)) AS "__pl_compensation__t_3",
    CAST(TRUNC("__pl_compensation_ratio__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_compensation_ratio__t_0",
    CAST(TRUNC("__pl_compensation_ratio__exact__guarantor", 2) AS DECIMAL(18, 2)) AS "__pl_compensation_ratio__t_1",
    CAST(TRUNC("__pl_compensation_ratio__exact__reguarantee", 2) AS DECIMAL(18, 2)) AS "__pl_compensation_ratio__t_2",
    CAST(TRUNC("__pl_compensation_ratio__exact__fund", 2) AS DECIMAL(18, 2)) AS "__pl_compensation_ratio__t_3",
    CAST(TRUNC("__pl_bank_guarantor__exact__bank", 2) AS DECIMAL(18, 2)) AS "__pl_bank_guarantor__t_0",
    CAST(TRUNC("__pl_bank_guarantor__exact__guarantor", 2) AS DECIMAL(18, 2)) AS "__pl_bank_guarantor__t_1"
  FROM __pl_2
), __pl_4 AS (
  SELECT
    *,
    "__pl_compensation__exact__reguarantee" - "__pl_compensation__t_0" AS "__pl_compensation__r_0",
    "__pl_compensation__exact__bank" - "__pl_compensation__t_1" AS "__pl_compensation__r_1",
    "__pl_compensation__exact__guarantor" - "__pl_compensation__t_2" AS "__pl_compensation__r_2",
    "__pl_compensation__exact__fund" - "__pl_compensation__t_3" AS "__pl_compensation__r_3",
    CAST((
      "__pl_compensation__amount" - (
        "__pl_compensation__t_0" + "__pl_compensation__t_1" + "__pl_compensation__t_2" + "__pl_compensation__t_3"
      )
    ) * 100 AS INT) AS "__pl_compensation__missing",
    "__pl_compensation_ratio__exact__bank" - "__pl_compensation_ratio__t_0" AS "__pl_compensation_ratio__r_0",
    "__pl_compensation_ratio__exact__guarantor" - "__pl_compensation_ratio__t_1" AS "__pl_compensation_ratio__r_1",
    "__pl_compensation_ratio__exact__reguarantee" - "__pl_compensation_ratio__t_2" AS "__pl_compensation_ratio__r_2",
    "__pl_compensation_ratio__exact__fund" - "__pl_compensation_ratio__t_3" AS "__pl_compensation_ratio__r_3",
    CAST((
      "__pl_compensation_ratio__amount" - (
        "__pl_compensation_ratio__t_0" + "__pl_compensation_ratio__t_1" + "__pl_compensation_ratio__t_2" + "__pl_compensation_ratio__t_3"
      )
    ) * 100 AS INT) AS "__pl_compensation_ratio__missing",
    "__pl_bank_guarantor__exact__bank" - "__pl_bank_guarantor__t_0" AS "__pl_bank_guarantor__r_0",
    "__pl_bank_guarantor__exact__guarantor" - "__pl_bank_guarantor__t_1" AS "__pl_bank_guarantor__r_1",
    CAST((
      "__pl_bank_guarantor__amount" - (
        "__pl_bank_guarantor__t_0" + "__pl_bank_guarantor__t_1"
      )
    ) * 100 AS INT) AS "__pl_bank_guarantor__missing"
  FROM __pl_3
), __pl_5 AS (
  SELECT
    *,
    "__pl_compensation__t_0" + CASE
      WHEN (
        CAST("__pl_compensation__r_1" > "__pl_compensation__r_0" AS INT) + CAST("__pl_compensation__r_2" > "__pl_compensation__r_0" AS INT) + CAST("__pl_compensation__r_3" > "__pl_compensation__r_0" AS INT)
      ) < "__pl_compensation__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation__part__reguarantee",
    "__pl_compensation__t_1" + CASE
      WHEN (
        CAST("__pl_compensation__r_0" >= "__pl_compensation__r_1" AS INT) + CAST("__pl_compensation__r_2" > "__pl_compensation__r_1" AS INT) + CAST("__pl_compensation__r_3" > "__pl_compensation__r_1" AS INT)
      ) < "__pl_compensation__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation__part__bank",
    "__pl_compensation__t_2" + CASE
      WHEN (
        CAST("__pl_compensation__r_0" >= "__pl_compensation__r_2" AS INT) + CAST("__pl_compensation__r_1" >= "__pl_compensation__r_2" AS INT) + CAST("__pl_compensation__r_3" > "__pl_compensation__r_2" AS INT)
      ) < "__pl_compensation__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation__part__guarantor",
    "__pl_compensation__t_3" + CASE
      WHEN (
        CAST("__pl_compensation__r_0" >= "__pl_compensation__r_3" AS INT) + CAST("__pl_compensation__r_1" >= "__pl_compensation__r_3" AS INT) + CAST("__pl_compensation__r_2" >= "__pl_compensation__r_3" AS INT)
      ) < "__pl_compensation__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation__part__fund",
    "__pl_compensation_ratio__t_0" + CASE
      WHEN (
        CAST("__pl_compensation_ratio__r_1" > "__pl_compensation_ratio__r_0" AS INT) + CAST("__pl_compensation_ratio__r_2" > "__pl_compensation_ratio__r_0" AS INT) + CAST("__pl_compensation_ratio__r_3" > "__pl_compensation_ratio__r_0" AS INT)
      ) < "__pl_compensation_ratio__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation_ratio__part__bank",
    "__pl_compensation_ratio__t_1" + CASE
      WHEN (
        CAST("__pl_compensation_ratio__r_0" >= "__pl_compensation_ratio__r_1" AS INT) + CAST("__pl_compensation_ratio__r_2" > "__pl_compensation_ratio__r_1" AS INT) + CAST("__pl_compensation_ratio__r_3" > "__pl_compensation_ratio__r_1" AS INT)
      ) < "__pl_compensation_ratio__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation_ratio__part__guarantor",
    "__pl_compensation_ratio__t_2" + CASE
      WHEN (
        CAST("__pl_compensation_ratio__r_0" >= "__pl_compensation_ratio__r_2" AS INT) + CAST("__pl_compensation_ratio__r_1" >= "__pl_compensation_ratio__r_2" AS INT) + CAST("__pl_compensation_ratio__r_3" > "__pl_compensation_ratio__r_2" AS INT)
      ) < "__pl_compensation_ratio__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation_ratio__part__reguarantee",
    "__pl_compensation_ratio__t_3" + CASE
      WHEN (
        CAST("__pl_compensation_ratio__r_0" >= "__pl_compensation_ratio__r_3" AS INT) + CAST("__pl_compensation_ratio__r_1" >= "__pl_compensation_ratio__r_3" AS INT) + CAST("__pl_compensation_ratio__r_2" >= "__pl_compensation_ratio__r_3" AS INT)
      ) < "__pl_compensation_ratio__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_compensation_ratio__part__fund",
    "__pl_bank_guarantor__t_0" + CASE
      WHEN (
        CAST("__pl_bank_guarantor__r_1" > "__pl_bank_guarantor__r_0" AS INT)
      ) < "__pl_bank_guarantor__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_bank_guarantor__part__bank",
    "__pl_bank_guarantor__t_1" + CASE
      WHEN (
        CAST("__pl_bank_guarantor__r_0" >= "__pl_bank_guarantor__r_1" AS INT)
      ) < "__pl_bank_guarantor__missing"
      THEN CAST(0.01 AS DECIMAL(3, 2))
      ELSE CAST(0 AS DECIMAL(1, 0))
    END AS "__pl_bank_guarantor__part__guarantor"
  FROM __pl_4
), __pl_checks AS (
  SELECT
    *,
    (
      "__pl_limit_household_cap__value" <= "__pl_limit_household_cap__bound"
    ) AS "rule__household_cap",
    CAST("__pl_limit_household_cap__value" AS DECIMAL(18, 2)) AS "rule__household_cap__value",
    CAST("__pl_limit_household_cap__bound" AS DECIMAL(18, 2)) AS "rule__household_cap__bound",
    CAST("__pl_let_guarantor_advance" AS DECIMAL(18, 2)) AS "guarantor_advance",
    CAST("__pl_let_reguarantee_claim" AS DECIMAL(18, 2)) AS "reguarantee_claim",
    CAST("__pl_let_fund_claim" AS DECIMAL(18, 2)) AS "fund_claim",
    CAST("__pl_let_guarantor_net" AS DECIMAL(18, 2)) AS "guarantor_net",
    CAST("__pl_let_compensated_loans" AS DECIMAL(18, 2)) AS "compensated_loans",
    CAST("__pl_let_loans_landed" AS DECIMAL(18, 2)) AS "loans_landed",
    CAST("__pl_let_leverage_exact" AS DECIMAL(18, 2)) AS "leverage_exact",
    CAST("__pl_let_leverage" AS DECIMAL(18, 2)) AS "leverage",
    CAST("__pl_compensation__part__reguarantee" AS DECIMAL(18, 2)) AS "compensation__reguarantee",
    CAST("__pl_compensation__part__bank" AS DECIMAL(18, 2)) AS "compensation__bank",
    CAST("__pl_compensation__part__guarantor" AS DECIMAL(18, 2)) AS "compensation__guarantor",
    CAST("__pl_compensation__part__fund" AS DECIMAL(18, 2)) AS "compensation__fund",
    CAST("__pl_compensation_ratio__part__bank" AS DECIMAL(18, 2)) AS "compensation_ratio__bank",
    CAST("__pl_compensation_ratio__part__guarantor" AS DECIMAL(18, 2)) AS "compensation_ratio__guarantor",
    CAST("__pl_compensation_ratio__part__reguarantee" AS DECIMAL(18, 2)) AS "compensation_ratio__reguarantee",
    CAST("__pl_compensation_ratio__part__fund" AS DECIMAL(18, 2)) AS "compensation_ratio__fund",
    CAST("__pl_bank_guarantor__part__bank" AS DECIMAL(18, 2)) AS "bank_guarantor__bank",
    CAST("__pl_bank_guarantor__part__guarantor" AS DECIMAL(18, 2)) AS "bank_guarantor__guarantor"
  FROM __pl_5
)
SELECT
  *
  EXCLUDE ("__pl_in_guarantee_amount", "__pl_in_defaulted", "__pl_in_guarantee_fee", "__pl_in_guarantee_date", "__pl_let_guarantor_advance", "__pl_let_reguarantee_claim", "__pl_let_fund_claim", "__pl_let_guarantor_net", "__pl_let_compensated_loans", "__pl_let_loans_landed", "__pl_let_leverage_exact", "__pl_let_leverage", "__pl_compensation__amount", "__pl_compensation__exact__reguarantee", "__pl_compensation__exact__bank", "__pl_compensation__exact__guarantor", "__pl_compensation__exact__fund", "__pl_compensation__t_0", "__pl_compensation__t_1", "__pl_compensation__t_2", "__pl_compensation__t_3", "__pl_compensation__r_0", "__pl_compensation__r_1", "__pl_compensation__r_2", "__pl_compensation__r_3", "__pl_compensation__missing", "__pl_compensation__part__reguarantee", "__pl_compensation__part__bank", "__pl_compensation__part__guarantor", "__pl_compensation__part__fund", "__pl_compensation_ratio__amount", "__pl_compensation_ratio__exact__bank", "__pl_compensation_ratio__exact__guarantor", "__pl_compensation_ratio__exact__reguarantee", "__pl_compensation_ratio__exact__fund", "__pl_compensation_ratio__t_0", "__pl_compensation_ratio__t_1", "__pl_compensation_ratio__t_2", "__pl_compensation_ratio__t_3", "__pl_compensation_ratio__r_0", "__pl_compensation_ratio__r_1", "__pl_compensation_ratio__r_2", "__pl_compensation_ratio__r_3", "__pl_compensation_ratio__missing", "__pl_compensation_ratio__part__bank", "__pl_compensation_ratio__part__guarantor", "__pl_compensation_ratio__part__reguarantee", "__pl_compensation_ratio__part__fund", "__pl_bank_guarantor__amount", "__pl_bank_guarantor__exact__bank", "__pl_bank_guarantor__exact__guarantor", "__pl_bank_guarantor__t_0", "__pl_bank_guarantor__t_1", "__pl_bank_guarantor__r_0", "__pl_bank_guarantor__r_1", "__pl_bank_guarantor__missing", "__pl_bank_guarantor__part__bank", "__pl_bank_guarantor__part__guarantor", "__pl_limit_household_cap__value", "__pl_limit_household_cap__bound"),
  "rule__household_cap" AS "eligible"
FROM __pl_checks;
