## lavaan 0.6.14 references for two features of the Python SEM core
## (analysis/sem; project issue 14, point 3):
##
##   1. standardized values of ':=' parameters (std.lv, std.all, std.nox as
##      parameterEstimates(standardized = TRUE) gives them) and their
##      delta-method standard errors (standardizedSolution(), all three types);
##   2. group.partial: parameters freed from the group.equal constraints.
##
## Run from the repository root:
##   Rscript tests/reference/lavaan_std_partial.R > tests/reference/lavaan_std_partial.Rout 2>&1
##
## Reads tests/reference/data/{HolzingerSwineford1939,PoliticalDemocracy}.csv
## (written by lavaan_reference.R; group 1 = Pasteur, group 2 = Grant-White)
## and writes, for each case below, to tests/reference/lavaan/:
##   stdpartial_<case>_estimates.csv  parameterEstimates(fit, standardized = TRUE):
##       lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper,
##       std_lv, std_all, std_nox  (group 1 in single-group fits; ':=' rows of
##       multigroup fits have group 0, as lavaan; fixed rows: se 0, empty z/pvalue)
##   stdpartial_<case>_stdsol.csv     standardizedSolution(fit, type = t) for
##       t = std.lv, std.all, std.nox stacked: type, lhs, op, rhs, group, label,
##       est_std, se, z, pvalue, ci_lower, ci_upper  (lavaan sets se to 0 when
##       it is below .Machine$double.eps^(1/4) and z/pvalue to NA then)
##   stdpartial_<case>_fit.csv        all of fitMeasures(fit): measure, value
## and stdpartial_cases.csv (one row per case: the options lavaan used).
## Deterministic: a rerun reproduces every file byte for byte.
suppressPackageStartupMessages(library(lavaan))
options(width = 120)

data_dir <- file.path("tests", "reference", "data")
out <- file.path("tests", "reference", "lavaan")
dir.create(out, recursive = TRUE, showWarnings = FALSE)
HS <- utils::read.csv(file.path(data_dir, "HolzingerSwineford1939.csv"))
PD <- utils::read.csv(file.path(data_dir, "PoliticalDemocracy.csv"))

write_tbl <- function(df, file) utils::write.csv(df, file, row.names = FALSE, na = "")

add_group_label <- function(df) {
  if (!"group" %in% names(df)) df$group <- 1L
  if (!"label" %in% names(df)) df$label <- ""
  df$label[is.na(df$label)] <- ""
  df
}

tidy_estimates <- function(fit) {
  pe <- add_group_label(parameterEstimates(fit, standardized = TRUE))
  names(pe)[names(pe) == "ci.lower"] <- "ci_lower"
  names(pe)[names(pe) == "ci.upper"] <- "ci_upper"
  names(pe)[names(pe) == "std.lv"] <- "std_lv"
  names(pe)[names(pe) == "std.all"] <- "std_all"
  names(pe)[names(pe) == "std.nox"] <- "std_nox"
  pe <- pe[, c("lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
               "ci_lower", "ci_upper", "std_lv", "std_all", "std_nox")]
  rownames(pe) <- NULL
  pe
}

tidy_stdsol <- function(fit) {
  parts <- lapply(c("std.lv", "std.all", "std.nox"), function(type) {
    ss <- add_group_label(standardizedSolution(fit, type = type))
    data.frame(type = type, lhs = ss$lhs, op = ss$op, rhs = ss$rhs, group = ss$group,
               label = ss$label, est_std = ss$est.std, se = ss$se, z = ss$z,
               pvalue = ss$pvalue, ci_lower = ss$ci.lower, ci_upper = ss$ci.upper,
               stringsAsFactors = FALSE)
  })
  do.call(rbind, parts)
}

cases <- list()
record <- function(fit, case, group_partial = "") {
  est <- tidy_estimates(fit)
  ss <- tidy_stdsol(fit)
  fm <- fitMeasures(fit)
  write_tbl(est, file.path(out, paste0("stdpartial_", case, "_estimates.csv")))
  write_tbl(ss, file.path(out, paste0("stdpartial_", case, "_stdsol.csv")))
  write_tbl(data.frame(measure = names(fm), value = as.numeric(fm)),
            file.path(out, paste0("stdpartial_", case, "_fit.csv")))
  o <- lavInspect(fit, "options")
  cases[[case]] <<- data.frame(
    case = case, converged = lavInspect(fit, "converged"),
    nobs = sum(unlist(lavInspect(fit, "nobs"))), ngroups = lavInspect(fit, "ngroups"),
    estimator = o$estimator, se = o$se, information = o$information[1],
    meanstructure = o$meanstructure, fixed_x = o$fixed.x,
    group_equal = paste(o$group.equal, collapse = "+"),
    group_partial = paste(o$group.partial, collapse = "+"),
    npar = unname(fm["npar"]), stringsAsFactors = FALSE)
  cat("\n=====================================================================\n")
  cat("case:", case, " converged:", lavInspect(fit, "converged"), "\n")
  if (nzchar(group_partial)) {
    cat("group.partial (as lavaan stored it):", o$group.partial, "\n")
  }
  print(round(fitMeasures(fit, c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                 "srmr", "logl", "bic")), 6))
  if (nzchar(group_partial)) {
    cat("\nparameterEstimates(standardized = TRUE), all rows:\n")
    print(est, digits = 6)
    return(invisible(est))
  }
  cat("\nparameterEstimates(standardized = TRUE), ':=' rows:\n")
  print(est[est$op == ":=", ], digits = 6)
  cat("\nstandardizedSolution(), ':=' rows, each type:\n")
  print(ss[ss$op == ":=", ], digits = 6)
  invisible(est)
}

## 1. observed mediation path model (x1 exogenous, fixed.x), with intercepts
m_path <- '
  x4 ~ a*x1
  x7 ~ b*x4 + c*x1
  ind := a*b
  total := c + a*b
'
record(sem(m_path, data = HS, meanstructure = TRUE), "path_med")

## 2. latent mediation: lavaan's PoliticalDemocracy tutorial model with labels
m_pd <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind := a*b
  total := c + a*b
'
record(sem(m_pd, data = PD), "pd_med")

## 3. multigroup latent mediation, group-specific labels, equal loadings;
##    a ':=' built from other ':=' parameters (a difference of indirect effects)
m_groups <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  textual ~ c(a1, a2)*visual
  speed   ~ c(b1, b2)*textual + c(c1, c2)*visual
  ind1 := a1*b1
  ind2 := a2*b2
  total1 := c1 + a1*b1
  total2 := c2 + a2*b2
  diff := ind1 - ind2
'
record(sem(m_groups, data = HS, group = "school", group.equal = "loadings"), "groups_med")

## 4. partial scalar invariance: one loading and one intercept free across groups
hs_model <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
'
gp4 <- c("visual =~ x2", "x3 ~ 1")
record(cfa(hs_model, data = HS, group = "school", group.equal = c("loadings", "intercepts"),
           group.partial = gp4), "partial_scalar", paste(gp4, collapse = ","))

## 5. partial strict invariance: two loadings, one intercept and one residual
##    variance free (spacing written three ways: lavaan strips white space)
gp5 <- c("visual=~x2", "textual =~ x5", "x3 ~1", "x1 ~~ x1")
record(cfa(hs_model, data = HS, group = "school",
           group.equal = c("loadings", "intercepts", "residuals"),
           group.partial = gp5), "partial_strict", paste(gp5, collapse = ","))

cases <- do.call(rbind, cases)
rownames(cases) <- NULL
write_tbl(cases, file.path(out, "stdpartial_cases.csv"))
cat("\n"); print(cases)
cat("\n"); print(sessionInfo())
