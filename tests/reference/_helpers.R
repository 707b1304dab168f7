## Helpers shared by the issue-16 reference scripts (lavaan_moderation.R, semtools_indprod.R):
## write a table as the Python tests read it, and parameterEstimates() + std.all in one tidy frame.
## Sourced from the repository root: source(file.path("tests", "reference", "_helpers.R")).

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
