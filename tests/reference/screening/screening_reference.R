# Reference values for analysis.psychometrics.screening.mahalanobis
# Run from this folder: Rscript screening_reference.R > screening_reference.Rout
# Data: R's built-in `attitude` (30 clerical employees, 7 ratings).
x <- datasets::attitude
write.csv(x, "attitude.csv", row.names = FALSE)
d2 <- mahalanobis(x, colMeans(x), cov(x))
p <- pchisq(d2, df = ncol(x), lower.tail = FALSE)
# distances of all rows from the centroid of rows 1-20 only (a reference subset)
ref <- x[1:20, ]
d2r <- mahalanobis(x, colMeans(ref), cov(ref))
out <- data.frame(row = seq_len(nrow(x)), d2 = d2, pvalue = p, d2_ref20 = d2r)
write.csv(out, "mahalanobis_attitude.csv", row.names = FALSE)
options(digits = 12)
print(R.version.string)
print(out)
