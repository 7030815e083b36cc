def training_table_sql(since=None, until=None):
    return ""
