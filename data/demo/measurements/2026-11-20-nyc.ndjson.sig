{"version": 1, "probe": "nyc", "algorithm": "hmac-sha256", "signature": "a8807494f866ecb27ad0e058ec80fb2c02d9a670a960bb8d2c06718159aaa1d2"}
