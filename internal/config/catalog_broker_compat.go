package config

// noEffectDoc starts the documentation of every config Samsa accepts only so
// that a Kafka server.properties loads.
const noEffectDoc = "Accepted for compatibility with Kafka; Samsa ignores it. In Kafka: "

// inert marks defs as accepted without effect.
func inert(defs []Def) []Def {
	for i := range defs {
		defs[i].NoEffect = true
		defs[i].Doc = noEffectDoc + defs[i].Doc
	}
	return defs
}

// compatDefs are Kafka configs that tune the JVM broker's thread pools,
// buffers, plugins and features Samsa does not have.
func compatDefs() []Def {
	return inert(append(threadAndBufferDefs(), pluginDefs()...))
}

func threadAndBufferDefs() []Def {
	return []Def{
		{Name: "num.network.threads", Type: TypeInt, Default: "3", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ClusterWide,
			Doc: "the threads per listener that read requests and write responses."},
		{Name: "num.io.threads", Type: TypeInt, Default: "8", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ClusterWide,
			Doc: "the threads that process requests."},
		{Name: "background.threads", Type: TypeInt, Default: "10", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ClusterWide,
			Doc: "the threads for background tasks."},
		{Name: "num.recovery.threads.per.data.dir", Type: TypeInt, Default: "2", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ClusterWide,
			Doc: "the threads per data directory that recover logs at start and flush them at shutdown."},
		{Name: "num.replica.alter.log.dirs.threads", Type: TypeInt, Importance: High, Mode: ReadOnly,
			Doc: "the threads that move replicas between log directories."},
		{Name: "group.coordinator.threads", Type: TypeInt, Default: "4", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "the threads of the group coordinator."},
		{Name: "socket.send.buffer.bytes", Type: TypeInt, Default: "102400", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "the SO_SNDBUF of server sockets; -1 for the OS default."},
		{Name: "socket.receive.buffer.bytes", Type: TypeInt, Default: "102400", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "the SO_RCVBUF of server sockets; -1 for the OS default."},
		{Name: "socket.listen.backlog.size", Type: TypeInt, Default: "50", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium, Mode: ReadOnly,
			Doc: "the pending-connection backlog of server sockets."},
		{Name: "replica.socket.receive.buffer.bytes", Type: TypeInt, Default: "65536", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "the SO_RCVBUF of follower fetch connections."},
		{Name: "queued.max.request.bytes", Type: TypeLong, Default: "-1", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "the queued request bytes above which no more requests are read; -1 for no limit."},
		{Name: "offsets.load.buffer.size", Type: TypeInt, Default: "5242880", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "the read batch size when loading __consumer_offsets."},
		{Name: "transaction.state.log.load.buffer.size", Type: TypeInt, Default: "5242880", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "the read batch size when loading __transaction_state."},
		{Name: "fetch.purgatory.purge.interval.requests", Type: TypeInt, Default: "1000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "the purge interval, in requests, of the fetch purgatory."},
		{Name: "producer.purgatory.purge.interval.requests", Type: TypeInt, Default: "1000", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "the purge interval, in requests, of the produce purgatory."},
		{Name: "delete.records.purgatory.purge.interval.requests", Type: TypeInt, Default: "1", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "the purge interval, in requests, of the delete-records purgatory."},
		{Name: "request.timeout.ms", Type: TypeInt, Default: "30000", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "the timeout of the broker's own client requests."},
		{Name: "share.coordinator.state.topic.replication.factor", Type: TypeShort, Default: "3", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "the replication factor of the share-group state topic (Samsa has no share groups)."},
		{Name: "share.coordinator.state.topic.min.isr", Type: TypeShort, Default: "2", HasDefault: true,
			Validator: AtLeast(1), Importance: High, Mode: ReadOnly,
			Doc: "the min.insync.replicas of the share-group state topic (Samsa has no share groups)."},
	}
}

func pluginDefs() []Def {
	return []Def{
		{Name: "metric.reporters", Type: TypeList, Default: "org.apache.kafka.common.metrics.JmxReporter", HasDefault: true,
			Importance: Low, Mode: ClusterWide,
			Doc: "metrics reporter classes (Samsa serves Prometheus metrics on metrics.listen)."},
		{Name: "metrics.num.samples", Type: TypeInt, Default: "2", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "the samples kept to compute a metric."},
		{Name: "metrics.sample.window.ms", Type: TypeLong, Default: "30000", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "the time window of one metric sample."},
		{Name: "metrics.recording.level", Type: TypeString, Default: "INFO", HasDefault: true,
			Importance: Low, Mode: ReadOnly,
			Doc: "the highest metrics recording level: INFO, DEBUG or TRACE."},
		{Name: "kafka.metrics.reporters", Type: TypeList, Default: "", HasDefault: true,
			Importance: Low, Mode: ReadOnly,
			Doc: "Yammer metrics reporter classes."},
		{Name: "kafka.metrics.polling.interval.secs", Type: TypeInt, Default: "10", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "the polling interval of kafka.metrics.reporters."},
		{Name: "config.providers", Type: TypeList, Default: "", HasDefault: true,
			Importance: Low, Mode: ClusterWide,
			Doc: "aliases of ConfigProvider classes that resolve ${provider:path:key} references (Samsa does not resolve them)."},
		{Name: "alter.config.policy.class.name", Type: TypeClass, Importance: Low, Mode: ReadOnly,
			Doc: "a policy class that vets AlterConfigs."},
		{Name: "create.topic.policy.class.name", Type: TypeClass, Importance: Low, Mode: ReadOnly,
			Doc: "a policy class that vets CreateTopics."},
		{Name: "principal.builder.class", Type: TypeClass,
			Default: "org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "the class that builds a connection's principal."},
		{Name: "replica.selector.class", Type: TypeString, Importance: Medium, Mode: ReadOnly,
			Doc: "the class that picks a preferred read replica for consumers."},
		{Name: "early.start.listeners", Type: TypeList, Importance: High, Mode: ReadOnly,
			Doc: "listeners started before the authorizer finished loading."},
		{Name: "remote.log.storage.system.enable", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "whether the broker runs tiered storage (Samsa has none)."},
		{Name: "sasl.kerberos.service.name", Type: TypeString, Importance: Medium, Mode: PerBroker,
			Doc: "the Kerberos principal name Kafka runs as (Samsa has no GSSAPI)."},
		{Name: "ssl.keymanager.algorithm", Type: TypeString, Default: "SunX509", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "the JVM key manager algorithm."},
		{Name: "ssl.trustmanager.algorithm", Type: TypeString, Default: "PKIX", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "the JVM trust manager algorithm."},
		{Name: "ssl.provider", Type: TypeString, Importance: Medium, Mode: PerBroker,
			Doc: "the JVM security provider for TLS."},
		{Name: "ssl.secure.random.implementation", Type: TypeString, Importance: Low, Mode: PerBroker,
			Doc: "the JVM SecureRandom implementation for TLS."},
		{Name: "ssl.engine.factory.class", Type: TypeClass, Importance: Low, Mode: PerBroker,
			Doc: "the class that provides SSLEngines."},
		{Name: "security.providers", Type: TypeString, Importance: Low, Mode: ReadOnly,
			Doc: "classes that create JVM security providers."},
		{Name: "delegation.token.secret.key", Type: TypePassword, Importance: Medium, Mode: ReadOnly,
			Doc: "the secret that signs delegation tokens; unset disables them (Samsa has no delegation tokens)."},
		{Name: "delegation.token.max.lifetime.ms", Type: TypeLong, Default: "604800000", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium, Mode: ReadOnly,
			Doc: "the longest a delegation token may be renewed for."},
		{Name: "delegation.token.expiry.time.ms", Type: TypeLong, Default: "86400000", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium, Mode: ReadOnly,
			Doc: "how long a delegation token lives before it must be renewed."},
		{Name: "delegation.token.expiry.check.interval.ms", Type: TypeLong, Default: "3600000", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "how often expired delegation tokens are removed."},
	}
}
