/** CloudWatch namespace of every metric the library's handlers emit (EMF). */
export const METRIC_NAMESPACE = 'HybridCompute';
