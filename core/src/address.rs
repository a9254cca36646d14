//! Shoppers' delivery addresses. An order copies the address it ships to, so editing or deleting
//! an address later never changes where a placed order goes.

use crate::ids::{AddressId, UserId};
use crate::text::{AddressDetail, Phone, ReceiverName, RegionPart};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How many addresses one shopper may keep.
pub const MAX_ADDRESSES_PER_USER: usize = 20;

/// The validated content of an address, as entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFields {
    pub receiver: ReceiverName,
    pub phone: Phone,
    pub province: RegionPart,
    pub city: RegionPart,
    pub district: RegionPart,
    pub detail: AddressDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub id: AddressId,
    pub user_id: UserId,
    pub fields: AddressFields,
    pub is_default: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The copy of an address kept on an order.
pub type AddressSnapshot = AddressFields;

impl AddressFields {
    /// `黑龙江省 哈尔滨市 五常市 民乐乡 1号`: one line for labels and exports.
    pub fn one_line(&self) -> String {
        format!(
            "{} {} {} {}",
            self.province, self.city, self.district, self.detail
        )
    }
}
