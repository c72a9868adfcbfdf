-- Prompt caching: the tokens each model call read from the cache and wrote to it. Both are billed apart from
-- the uncached input (`input_tokens`): a cache read at a tenth of the input price, a write at 1.25 times.
ALTER TABLE generation_attempts ADD COLUMN cache_read_tokens integer NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0);
ALTER TABLE generation_attempts ADD COLUMN cache_write_tokens integer NOT NULL DEFAULT 0
    CHECK (cache_write_tokens >= 0);
