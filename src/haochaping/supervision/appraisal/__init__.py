"""The indicator system and the units' appraisal (绩效评价, R2.5, §四(三)); docs/appraisal.md."""
