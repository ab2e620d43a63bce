-- Bytes per stored message (issue 9): a TransactionEvent's sampled values are stored once, as
-- rows of meter_values; the stored request keeps everything else. What it carried is counted
-- here (older rows still hold their meterValue and are counted from it).
ALTER TABLE transaction_events ADD COLUMN meter_value_count BIGINT NOT NULL DEFAULT 0;
UPDATE transaction_events
    SET meter_value_count = jsonb_array_length(data::jsonb -> 'meterValue')
    WHERE jsonb_typeof(data::jsonb -> 'meterValue') = 'array';
