package config

// securityDefs: TLS, SASL and authorization.
func securityDefs() []Def {
	return append(saslDefs(), append(sslDefs(), authzDefs()...)...)
}

func saslDefs() []Def {
	return []Def{
		{Name: "sasl.enabled.mechanisms", Type: TypeList, Default: "GSSAPI", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The SASL mechanisms the broker offers on SASL listeners (GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)."},
		{Name: "sasl.mechanism.inter.broker.protocol", Type: TypeString, Default: "GSSAPI", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The SASL mechanism brokers use with each other."},
		{Name: "sasl.mechanism.controller.protocol", Type: TypeString, Default: "GSSAPI", HasDefault: true,
			Importance: High, Mode: ReadOnly,
			Doc: "The SASL mechanism used with controllers."},
		{Name: "sasl.jaas.config", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "JAAS login module options for SASL, usually given per listener and mechanism (listener.name.sasl_ssl.plain.sasl.jaas.config)."},
		{Name: "sasl.server.max.receive.size", Type: TypeInt, Default: "524288", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "The largest message accepted before and during SASL authentication."},
	}
}

func sslDefs() []Def {
	return []Def{
		{Name: "ssl.keystore.location", Type: TypeString, Importance: Medium, Mode: PerBroker,
			Doc: "The path of the key store holding the broker's certificate and key."},
		{Name: "ssl.keystore.password", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "The password of the key store file; not used with PEM."},
		{Name: "ssl.keystore.type", Type: TypeString, Default: "JKS", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The key store format: JKS, PKCS12 or PEM."},
		{Name: "ssl.keystore.key", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "The private key in PEM (PKCS#8), given inline instead of a key store file."},
		{Name: "ssl.keystore.certificate.chain", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "The certificate chain in PEM, given inline instead of a key store file."},
		{Name: "ssl.key.password", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "The password of the private key in the key store or in ssl.keystore.key."},
		{Name: "ssl.truststore.location", Type: TypeString, Importance: Medium, Mode: PerBroker,
			Doc: "The path of the trust store."},
		{Name: "ssl.truststore.password", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "The password of the trust store file; not used with PEM."},
		{Name: "ssl.truststore.type", Type: TypeString, Default: "JKS", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The trust store format: JKS, PKCS12 or PEM."},
		{Name: "ssl.truststore.certificates", Type: TypePassword, Importance: Medium, Mode: PerBroker,
			Doc: "Trusted certificates in PEM, given inline instead of a trust store file."},
		{Name: "ssl.client.auth", Type: TypeString, Default: "none", HasDefault: true,
			Validator: OneOf("required", "requested", "none"), Importance: Medium, Mode: PerBroker,
			Doc: "Whether TLS clients must (required), may (requested) or need not (none) present a certificate."},
		{Name: "ssl.enabled.protocols", Type: TypeList, Default: "TLSv1.2,TLSv1.3", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The TLS versions accepted."},
		{Name: "ssl.protocol", Type: TypeString, Default: "TLSv1.3", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The preferred TLS version."},
		{Name: "ssl.cipher.suites", Type: TypeList, Default: "", HasDefault: true,
			Importance: Medium, Mode: PerBroker,
			Doc: "The cipher suites allowed; empty allows every available one."},
		{Name: "ssl.endpoint.identification.algorithm", Type: TypeString, Default: "https", HasDefault: true,
			Importance: Low, Mode: PerBroker,
			Doc: `How a peer's host name is checked against its certificate: "https" checks it, empty does not.`},
		{Name: "ssl.principal.mapping.rules", Type: TypeString, Default: "DEFAULT", HasDefault: true,
			Importance: Low, Mode: ReadOnly,
			Doc: "Rules mapping a client certificate's distinguished name to a principal name; DEFAULT uses the whole name."},
	}
}

func authzDefs() []Def {
	return []Def{
		{Name: "authorizer.class.name", Type: TypeString, Default: "", HasDefault: true,
			Importance: Low, Mode: ReadOnly,
			Doc: "The authorizer class; empty authorizes every request. Kafka's KRaft authorizer is org.apache.kafka.metadata.authorizer.StandardAuthorizer."},
		{Name: "super.users", Type: TypeString, Importance: Medium, Mode: ReadOnly,
			Doc: "Principals allowed every operation regardless of ACLs, separated by semicolons (User:admin;User:ops). A config of Kafka's StandardAuthorizer."},
		{Name: "allow.everyone.if.no.acl.found", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium, Mode: ReadOnly,
			Doc: "Whether a resource with no ACLs is open to everyone. A config of Kafka's StandardAuthorizer."},
		{Name: "quota.window.num", Type: TypeInt, Default: "11", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "How many samples client quotas keep."},
		{Name: "quota.window.size.seconds", Type: TypeInt, Default: "1", HasDefault: true,
			Validator: AtLeast(1), Importance: Low, Mode: ReadOnly,
			Doc: "The time span of one client quota sample."},
	}
}
