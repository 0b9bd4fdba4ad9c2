// Package config is Samsa's one catalog of broker and topic configs: name,
// type, default, validator, dynamic update mode, synonyms and documentation,
// mirroring Kafka 4.2's documented configs. It drives
//
//   - start-up: ParseProperties reads server.properties, ValidateBroker
//     checks it (unknown names get a suggestion) and returns typed Values;
//   - DescribeConfigs: DescribeTopic and DescribeBroker give each config's
//     value, source, synonyms, read-only and sensitive flags, type and doc;
//   - CreateTopics, AlterConfigs and IncrementalAlterConfigs: ApplyIncremental,
//     ValidateTopic and ValidateBrokerAlter;
//   - per-topic settings: ResolveTopic merges a topic's overrides with the
//     broker's dynamic and static defaults.
//
// Type and Source use Kafka's wire codes, so handlers copy them into
// kmsg fields. Every validation error matches ErrInvalidConfig.
//
// Samsa's defaults differ from Kafka's only where listed in brokerDefs
// (node.id, process.roles, controller.listener.names, listeners, log.dir,
// the internal topics' replication) and for the Samsa extension
// metrics.listen.
package config
