"""Finance: chart of accounts, budgets, accounts payable, payment runs, payroll and revenue."""
