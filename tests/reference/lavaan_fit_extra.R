## lavaan 0.6.14 reference values for the fit indices of every estimator
## (analysis/sem/fit_indices.py, analysis/sem/robust.py; issue 14, "every
## statistic computed once"): all of fitMeasures() under ML, MLR, FIML (ML and
## MLR), WLSMV, DWLS and two-level ML, saturated (df = 0) versions of each,
## cluster-robust MLR and the cluster-robust Satorra-Bentler test.
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_fit_extra.R > tests/reference/lavaan_fit_extra.Rout 2>&1
##
## Reads  tests/reference/data/{HolzingerSwineford1939,HS_missing,HS_ordinal,
##        PoliticalDemocracy,Demo_twolevel}.csv (written by lavaan_reference.R
##        and lavaan_twolevel.R).
## Writes tests/reference/lavaan/fitextra_<case>_fit.csv (measure,value: ALL
##        of fitMeasures(fit), NA as empty), fitextra_<case>_estimates.csv
##        (parameterEstimates + std.all, format of lavaan_reference.R) and
##        tests/reference/lavaan/fitextra_cases.csv (the options lavaan used).
## R is used only to record reference values; it is never a runtime or test
## dependency.  The script is deterministic (no random numbers), ~20 s.
##
## The cluster variable `cl` of the *_cluster cases is not stored in the data:
## blocks of 10 consecutive rows, cl = (row - 1) %/% 10 + 1 (31 clusters), as
## in lavaan_fiml_extra.R and the Python tests.
##
## Cases (HS = visual =~ x1+x2+x3; textual =~ x4+x5+x6; speed =~ x7+x8+x9,
##        HS3 = visual =~ x1 + x2 + x3, just identified: df = 0)
##   hs_ml               HS, ML
##   hs_ml_sat           HS3, ML                                   (df = 0)
##   hs_ml_group_sat     HS3, ML, group = "school"                 (df = 0, G = 2)
##   hs_mlr              HS, MLR
##   hs_mlr_sat          HS3, MLR                                  (df = 0)
##   hs_fiml             HS on HS_missing, missing = "ml" (ML: robust indices FIML-C V6)
##   hs_fiml_sat         HS3, the same                             (df = 0)
##   hs_mlr_fiml         HS on HS_missing, MLR, missing = "ml" (FIML-C V3)
##   hs_mlr_fiml_sat     HS3, the same                             (df = 0)
##   hs_wlsmv            HS on HS_ordinal, ordered x1..x9, WLSMV (robust: catML)
##   hs_wlsmv_group      the same with group = "school"
##   hs_wlsmv_sat        HS3, WLSMV                                (df = 0)
##   hs_dwls             HS on HS_ordinal, DWLS
##   hs_dwls_sat         HS3, DWLS                                 (df = 0)
##   poldem_ml_sat       PoliticalDemocracy, y1 ~ x1 + x2 (fixed.x), ML (df = 0)
##   poldem_mlr_sat      the same, MLR                             (df = 0)
##   hs_mlr_cluster      HS, MLR, cluster = "cl" (se robust.cluster, yuan.bentler.mplus)
##   hs_sb_cluster       HS, estimator = "ML", se = "robust.cluster", cluster = "cl",
##                       test = "satorra.bentler" (also estimates: the SEs)
##   hs_mlm              HS, estimator = "MLM" (Satorra-Bentler, expected information)
##   twolevel_sat        Demo_twolevel, level 1: fw =~ y1+y2+y3; level 2: fb =~ y1+y2+y3
##                       (df = 0)

suppressPackageStartupMessages(library(lavaan))
options(width = 120)
cat("R", R.version$major, ".", R.version$minor, " lavaan ", as.character(packageVersion("lavaan")), "\n", sep = "")

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")
write_tbl <- function(df, file) utils::write.csv(df, file, row.names = FALSE, na = "")
num15 <- function(df) {
  for (nm in names(df)) if (is.double(df[[nm]])) df[[nm]] <- signif(df[[nm]], 15)
  df
}

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
  num15(m)
}

show <- c("chisq", "df", "chisq.scaled", "chisq.scaling.factor", "baseline.chisq",
          "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi", "tli",
          "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust", "rmsea",
          "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "rmsea.scaled",
          "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.robust",
          "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust", "srmr",
          "srmr_within", "srmr_between")

cases <- list()
record <- function(fit, case, estimates = FALSE) {
  fm <- fitMeasures(fit)
  write_tbl(num15(data.frame(measure = names(fm), value = as.numeric(fm))),
            file.path(out_res, paste0("fitextra_", case, "_fit.csv")))
  if (estimates) {
    write_tbl(tidy_estimates(fit), file.path(out_res, paste0("fitextra_", case, "_estimates.csv")))
  }
  o <- lavInspect(fit, "options")
  row <- data.frame(case = case, converged = lavInspect(fit, "converged"),
                    nobs = sum(lavInspect(fit, "nobs")), ngroups = lavInspect(fit, "ngroups"),
                    estimator = o$estimator, se = o$se, test = paste(o$test, collapse = ";"),
                    information = paste(o$information, collapse = ";"),
                    observed_information = paste(o$observed.information, collapse = ";"),
                    h1_information = paste(o$h1.information, collapse = ";"),
                    missing = o$missing, meanstructure = o$meanstructure,
                    npar = unname(fm["npar"]), df = unname(fm["df"]),
                    n_measures = length(fm))
  cases[[case]] <<- row
  cat("\n=====================================================================\n")
  cat("case: fitextra_", case, "\n", sep = "")
  print(row[, -1], row.names = FALSE)
  print(signif(fm[intersect(show, names(fm))], 10))
  invisible(fit)
}

HS <- utils::read.csv(file.path(out_data, "HolzingerSwineford1939.csv"))
HSm <- utils::read.csv(file.path(out_data, "HS_missing.csv"))
HSo <- utils::read.csv(file.path(out_data, "HS_ordinal.csv"))
PD <- utils::read.csv(file.path(out_data, "PoliticalDemocracy.csv"))
TL <- utils::read.csv(file.path(out_data, "Demo_twolevel.csv"))
HS$cl <- (seq_len(nrow(HS)) - 1L) %/% 10L + 1L
ov <- paste0("x", 1:9)

hs <- ' visual  =~ x1 + x2 + x3
        textual =~ x4 + x5 + x6
        speed   =~ x7 + x8 + x9 '
hs3 <- ' visual =~ x1 + x2 + x3 '

## ML, complete data
record(cfa(hs, data = HS), "hs_ml")
record(cfa(hs3, data = HS), "hs_ml_sat")
record(cfa(hs3, data = HS, group = "school"), "hs_ml_group_sat")

## MLR, complete data
record(cfa(hs, data = HS, estimator = "MLR"), "hs_mlr")
record(cfa(hs3, data = HS, estimator = "MLR"), "hs_mlr_sat")

## FIML: ML (robust indices by FIML-C V6) and MLR (V3)
record(cfa(hs, data = HSm, missing = "ml"), "hs_fiml")
record(cfa(hs3, data = HSm, missing = "ml"), "hs_fiml_sat")
record(cfa(hs, data = HSm, missing = "ml", estimator = "MLR"), "hs_mlr_fiml")
record(cfa(hs3, data = HSm, missing = "ml", estimator = "MLR"), "hs_mlr_fiml_sat")

## ordinal: WLSMV (scaled-shifted; robust indices by catML) and DWLS
record(cfa(hs, data = HSo, ordered = ov, estimator = "WLSMV"), "hs_wlsmv")
record(cfa(hs, data = HSo, ordered = ov, estimator = "WLSMV", group = "school"), "hs_wlsmv_group")
record(cfa(hs3, data = HSo, ordered = c("x1", "x2", "x3"), estimator = "WLSMV"), "hs_wlsmv_sat")
record(cfa(hs, data = HSo, ordered = ov, estimator = "DWLS"), "hs_dwls")
record(cfa(hs3, data = HSo, ordered = c("x1", "x2", "x3"), estimator = "DWLS"), "hs_dwls_sat")

## a saturated regression with fixed exogenous covariates
record(sem(' y1 ~ x1 + x2 ', data = PD), "poldem_ml_sat")
record(sem(' y1 ~ x1 + x2 ', data = PD, estimator = "MLR"), "poldem_mlr_sat")

## cluster-robust: MLR (Yuan-Bentler) and ML with the Satorra-Bentler test
record(cfa(hs, data = HS, estimator = "MLR", cluster = "cl"), "hs_mlr_cluster")
fit_sb <- record(cfa(hs, data = HS, estimator = "ML", se = "robust.cluster", cluster = "cl",
                     test = "satorra.bentler"), "hs_sb_cluster", estimates = TRUE)
t_sb <- lavInspect(fit_sb, "test")$satorra.bentler
cat("satorra.bentler (cluster): trace.UGamma", format(t_sb$trace.UGamma, digits = 15),
    " scaling.factor", format(t_sb$scaling.factor, digits = 15), "\n")
fit_mlm <- record(cfa(hs, data = HS, estimator = "MLM"), "hs_mlm")
t_mlm <- lavInspect(fit_mlm, "test")$satorra.bentler
cat("satorra.bentler (MLM): trace.UGamma", format(t_mlm$trace.UGamma, digits = 15),
    " scaling.factor", format(t_mlm$scaling.factor, digits = 15), "\n")

## two-level, saturated
record(sem(' level: 1
               fw =~ y1 + y2 + y3
             level: 2
               fb =~ y1 + y2 + y3 ', data = TL, cluster = "cluster"), "twolevel_sat")

write_tbl(do.call(rbind, cases), file.path(out_res, "fitextra_cases.csv"))
cat("\n")
sessionInfo()
