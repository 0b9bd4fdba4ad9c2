// Registers kafkajs's codecs for every compression a broker may hand back:
// gzip is built into kafkajs; snappy comes from kafkajs-snappy (pure JS),
// lz4 from kafkajs-lz4 (native lz4 addon), zstd from a codec written here
// on zstd-napi (the kafkajs project's @kafkajs/zstd does not build on
// Node 20). A consumer needs them for whatever its producers chose.
'use strict'

const { CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const LZ4Codec = require('kafkajs-lz4')
const zstd = require('zstd-napi')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async encoder => zstd.compress(encoder.buffer),
  decompress: async buffer => zstd.decompress(buffer),
})
