## Extra lavaan 0.6.14 references for the ML core (analysis/sem):
## fixed.x covariates, observed mediators with := effects, auto.cov.y among
## latent outcomes, std.lv in a structural model, multigroup equality of
## regressions and latent variances.
##
## Run from the repository root:
##   Rscript tests/sem/lavaan_ml_extra.R > tests/sem/lavaan_ml_extra.Rout 2>&1
## Writes tests/sem/reference/<case>_{estimates,fit}.csv.
suppressPackageStartupMessages(library(lavaan))
options(width = 120)
out <- file.path("tests", "sem", "reference")
dir.create(out, recursive = TRUE, showWarnings = FALSE)
HS <- utils::read.csv(file.path("tests", "reference", "data", "HolzingerSwineford1939.csv"))
PD <- utils::read.csv(file.path("tests", "reference", "data", "PoliticalDemocracy.csv"))

tidy_estimates <- function(fit) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  if (!"group" %in% names(pe)) pe$group <- 1L
  if (!"group" %in% names(ss)) ss$group <- 1L
  if (!"label" %in% names(pe)) pe$label <- ""
  pe$label[is.na(pe$label)] <- ""
  pe$.row <- seq_len(nrow(pe))
  ss <- ss[, c("lhs", "op", "rhs", "group", "est.std")]
  m <- merge(pe, ss, by = c("lhs", "op", "rhs", "group"), all.x = TRUE, sort = FALSE)
  m <- m[order(m$.row), ]
  names(m)[names(m) == "ci.lower"] <- "ci_lower"
  names(m)[names(m) == "ci.upper"] <- "ci_upper"
  names(m)[names(m) == "est.std"] <- "std_all"
  m <- m[, c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
             "ci_lower", "ci_upper", "std_all")]
  rownames(m) <- NULL
  m
}
record <- function(fit, case) {
  est <- tidy_estimates(fit)
  fm <- fitMeasures(fit)
  utils::write.csv(est, file.path(out, paste0(case, "_estimates.csv")), row.names = FALSE, na = "")
  utils::write.csv(data.frame(measure = names(fm), value = as.numeric(fm)),
                   file.path(out, paste0(case, "_fit.csv")), row.names = FALSE, na = "")
  cat("\n==== case:", case, " converged:", lavInspect(fit, "converged"), "\n")
  print(round(fitMeasures(fit, c("npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "bic")), 6))
  print(est, digits = 6)
}

## 1. observed covariates (fixed.x = TRUE) predicting a latent variable
m1 <- ' dem60 =~ y1 + y2 + y3 + y4
        dem60 ~ x1 + x2 '
record(sem(m1, data = PD), "pd_fixedx")
record(sem(m1, data = PD, meanstructure = TRUE), "pd_fixedx_meanstructure")

## 2. observed path model with an observed mediator and := effects
m2 <- ' x4 ~ a*x1
        x7 ~ b*x4 + c*x1
        ind := a*b
        total := c + a*b '
record(sem(m2, data = HS), "hs_path_mediation")

## 3. two latent outcomes of one latent predictor (auto.cov.y), std.lv
m3 <- ' visual  =~ x1 + x2 + x3
        textual =~ x4 + x5 + x6
        speed   =~ x7 + x8 + x9
        textual ~ visual
        speed ~ visual '
record(sem(m3, data = HS), "hs_two_outcomes")
record(sem(m3, data = HS, std.lv = TRUE), "hs_two_outcomes_stdlv")

## 4. multigroup structural model, equal loadings, regressions, lv variances
record(sem(m3, data = HS, group = "school",
           group.equal = c("loadings", "regressions", "lv.variances")),
       "hs_two_outcomes_groups")

## 5. multigroup with per-group labels and a := difference across groups
m5 <- ' visual  =~ x1 + x2 + x3
        textual =~ x4 + x5 + x6
        textual ~ c(b1, b2)*visual
        diff := b1 - b2 '
record(sem(m5, data = HS, group = "school", group.equal = "loadings"), "hs_groups_defined")

## 6. equality constraint written with '==' between labels
m6 <- ' visual  =~ x1 + a*x2 + b*x3
        textual =~ x4 + x5 + x6
        a == b '
record(cfa(m6, data = HS), "hs_equality_operator")

cat("\n"); print(sessionInfo())
