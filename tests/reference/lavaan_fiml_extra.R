## Extra lavaan reference values for FIML / MLR (analysis/sem/fiml.py,
## analysis/sem/robust.py, analysis/sem/saturated.py): cluster-robust MLR,
## multigroup MLR (complete and FIML), MLR with exogenous covariates
## (fixed.x), and the EM saturated moments.
##
## Run from the repository root, after tests/reference/lavaan_reference.R
## (it reads the data sets that script wrote):
##   Rscript tests/reference/lavaan_fiml_extra.R > tests/reference/lavaan_fiml_extra.Rout 2>&1
##
## Writes tests/reference/lavaan/fiml_extra_<case>_{estimates,fit}.csv and
## fiml_extra_hs_em_{mean,cov}.csv.  R is used only to record reference
## values; it is never a runtime or test dependency.
##
## The cluster variable `cl` is not stored in the data: it is defined here
## and in the Python tests as blocks of 10 consecutive rows,
##   cl = (row - 1) %/% 10 + 1   (row = 1..301, so 31 clusters),
## which groups pupils of the same school (the rows are sorted by school).

suppressPackageStartupMessages(library(lavaan))

out_data <- file.path("tests", "reference", "data")
out_res <- file.path("tests", "reference", "lavaan")
options(width = 120)
cat("R", R.version$major, ".", R.version$minor, " lavaan ", as.character(packageVersion("lavaan")), "\n", sep = "")

write_tbl <- function(df, file) utils::write.csv(df, file, row.names = FALSE, na = "")

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

keys <- c("npar", "chisq", "df", "chisq.scaled", "chisq.scaling.factor",
          "baseline.chisq", "baseline.chisq.scaled", "baseline.chisq.scaling.factor",
          "cfi", "tli", "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
          "rmsea", "rmsea.scaled", "rmsea.robust", "srmr", "logl", "unrestricted.logl",
          "aic", "bic")

record <- function(fit, case) {
  est <- tidy_estimates(fit)
  fm <- fitMeasures(fit)
  write_tbl(est, file.path(out_res, paste0("fiml_extra_", case, "_estimates.csv")))
  write_tbl(data.frame(measure = names(fm), value = as.numeric(fm)),
            file.path(out_res, paste0("fiml_extra_", case, "_fit.csv")))
  o <- lavInspect(fit, "options")
  cat("\n=====================================================================\n")
  cat("case: fiml_extra_", case, "\n", sep = "")
  cat("converged:", lavInspect(fit, "converged"),
      " nobs:", paste(lavInspect(fit, "nobs"), collapse = ","),
      " estimator:", o$estimator, " se:", o$se,
      " test:", paste(o$test, collapse = ","),
      " information:", paste(o$information, collapse = ","),
      " missing:", o$missing, " meanstructure:", o$meanstructure, "\n")
  print(round(fitMeasures(fit, intersect(keys, names(fm))), 6))
  print(head(est, 12), digits = 6)
}

HS <- utils::read.csv(file.path(out_data, "HolzingerSwineford1939.csv"))
HSm <- utils::read.csv(file.path(out_data, "HS_missing.csv"))
HS$cl <- (seq_len(nrow(HS)) - 1L) %/% 10L + 1L
HSm$cl <- (seq_len(nrow(HSm)) - 1L) %/% 10L + 1L
cat("clusters:", length(unique(HS$cl)), "\n")

hs_model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '

## EM saturated moments of HS_missing (lavaan's h1 under missing = "ml")
fit <- cfa(hs_model, data = HSm, missing = "fiml")
h1 <- lavInspect(fit, "sampstat.h1")
write_tbl(data.frame(variable = names(h1$mean), mean = as.numeric(h1$mean)),
          file.path(out_res, "fiml_extra_hs_em_mean.csv"))
cv <- as.data.frame(unclass(h1$cov))
cv <- cbind(variable = rownames(cv), cv)
write_tbl(cv, file.path(out_res, "fiml_extra_hs_em_cov.csv"))
cat("\nEM h1 loglik:", fitMeasures(fit, "unrestricted.logl"), "\n")
print(h1$mean, digits = 10)

## cluster-robust MLR, complete data
record(cfa(hs_model, data = HS, estimator = "MLR", cluster = "cl"), "hs_mlr_cluster")

## cluster-robust MLR with FIML
record(cfa(hs_model, data = HSm, estimator = "MLR", missing = "fiml", cluster = "cl"),
       "hs_mlr_fiml_cluster")

## multigroup MLR, complete data and FIML
record(cfa(hs_model, data = HS, estimator = "MLR", group = "school"), "hs_mlr_group")
record(cfa(hs_model, data = HSm, estimator = "MLR", missing = "fiml", group = "school"),
       "hs_mlr_fiml_group")

## MLR with exogenous observed covariates (fixed.x = TRUE, lavaan's default)
hs_x <- paste(hs_model, "\n visual ~ ageyr + sex\n speed ~ ageyr")
record(sem(hs_x, data = HS, estimator = "MLR"), "hs_mlr_x")

## MLR with a mean structure (complete data)
record(cfa(hs_model, data = HS, estimator = "MLR", meanstructure = TRUE), "hs_mlr_meanstructure")

sessionInfo()
